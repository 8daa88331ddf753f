# filled in by the certs module
