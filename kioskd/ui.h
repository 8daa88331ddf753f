/*
 * The UI socket of kioskd: a Unix stream socket carrying newline-delimited
 * JSON, version 1 (DESIGN.md "Sockets and roles").
 *
 * Server -> client, one object per line, each with "v":1 and "type":
 *   hello   {"server":"kioskd","protocol":1,"kiosk_id","store_name","role"}
 *           first, then the current screen
 *   screen  {"state","session","timeout","data"} on every state change
 *   error   {"code","message","message_ja","cmd"?} to one client only
 *   role    {"role":"control"|"watch"} when a client's role changes
 *   pong    answer to {"cmd":"ping"}
 * Client -> server: {"v":1,"cmd":"..."} ("v" may be left out; any other
 * version is refused).  Lines are at most UI_LINE_MAX bytes.
 *
 * Who may act: the first client connected controls; later ones watch
 * (screens only) and take over, oldest first, when the controller leaves.
 * A malformed line earns that client an error; a line over the limit, an
 * output queue over UI_OUTQ_MAX or a read error drops that client only.
 *
 * Input is read into one fixed buffer per client and wiped as soon as a
 * line is handled: a PIN passes through here.
 */
#ifndef KIOSK_UI_H
#define KIOSK_UI_H

#include <jansson.h>

struct event_base;
struct conf_socket;
struct ui;
struct ui_client;

#define UI_PROTOCOL	1
#define UI_LINE_MAX	8192
#define UI_CLIENTS_MAX	16
#define UI_OUTQ_MAX	(1024 * 1024)

/* A command from the controlling client: msg is the whole object (valid
   during the call), cmd its "cmd" string. */
typedef void	(*ui_cmd_fn)(struct ui_client *, const char *cmd, json_t *msg,
		    void *arg);

/*
 * Listen on sock->path (a stale socket there is replaced, anything else
 * refused), mode sock->mode, group sock->group when that group exists.
 * NULL with a logged reason.
 */
struct ui	*ui_new(struct event_base *, const struct conf_socket *sock,
		    const char *kiosk_id, const char *store_name,
		    ui_cmd_fn, void *arg);
/* Close every client, remove the socket file. */
void		 ui_free(struct ui *);
/* Send a screen to every client and keep it for the ones that come. */
void		 ui_screen(struct ui *, json_t *screen);
/* An error to one client. */
void		 ui_error(struct ui_client *, const char *cmd, const char *code,
		    const char *message, const char *message_ja);
/* Any message to one client. */
void		 ui_send(struct ui_client *, json_t *);
int		 ui_nclients(const struct ui *);

#endif
