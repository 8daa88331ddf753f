# filled in by the tests/vcard module
