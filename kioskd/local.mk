# filled in by the kioskd module
