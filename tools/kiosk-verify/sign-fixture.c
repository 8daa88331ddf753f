/*
 * sign-fixture: the document code of a content file, signed with a
 * document key, as the center would make it; for tests only (the
 * kiosk-verify integration test signs its fixtures with it).
 *
 * usage: sign-fixture KEY.pem CONTENT.json    (prints the code text)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "doccode.h"

#define CONTENT_MAX	(16 * 1024 * 1024)

int
main(int argc, char **argv)
{
	struct doccode	 code;
	EVP_PKEY	*key;
	FILE		*f;
	char		*content, text[DOCCODE_TEXT_MAX + 1];
	size_t		 len;

	if (argc != 3) {
		fprintf(stderr, "usage: sign-fixture KEY.pem CONTENT.json\n");
		return 2;
	}
	if ((f = fopen(argv[1], "r")) == NULL ||
	    (key = PEM_read_PrivateKey(f, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "sign-fixture: %s: cannot read the key\n",
		    argv[1]);
		return 1;
	}
	fclose(f);
	if ((f = fopen(argv[2], "rb")) == NULL ||
	    (content = malloc(CONTENT_MAX)) == NULL) {
		fprintf(stderr, "sign-fixture: %s: cannot read\n", argv[2]);
		return 1;
	}
	len = fread(content, 1, CONTENT_MAX, f);
	fclose(f);
	if (len == CONTENT_MAX ||
	    doccode_from_content(content, len, &code) == -1 ||
	    doccode_sign(key, &code) == -1 ||
	    doccode_format(&code, text, sizeof(text)) < 0) {
		fprintf(stderr, "sign-fixture: %s: cannot make the code\n",
		    argv[2]);
		return 1;
	}
	printf("%s\n", text);
	free(content);
	EVP_PKEY_free(key);
	return 0;
}
