# kioskd backend client library
