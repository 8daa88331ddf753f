# (this fragment is being written)
