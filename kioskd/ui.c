/*
 * The UI socket server (ui.h).  One read event per client, always armed;
 * one write event, armed while its output queue holds data (tmux proc.c).
 * Reads go into a fixed per-client buffer, never into libevent's buffers,
 * so a PIN in a command line can be wiped as soon as the line is handled.
 */

#define _GNU_SOURCE	/* accept4 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "ui.h"
#include "util.h"

/* Free what jansson allocated (json_dumps): its own free function, which
   in kioskd wipes. */
static void
json_release(void *p)
{
	json_malloc_t m;
	json_free_t f;

	if (p == NULL)
		return;
	json_get_alloc_funcs(&m, &f);
	f(p);
}

#define UI_RBUF		(UI_LINE_MAX + 1)	/* a line and its newline */
#define UI_BACKLOG	8

struct ui_client {
	TAILQ_ENTRY(ui_client)	 entry;
	struct ui		*ui;
	int			 fd;
	unsigned long		 id;
	struct event		*rev;
	struct event		*wev;
	struct evbuffer		*out;
	char			 rbuf[UI_RBUF];
	size_t			 rlen;
	int			 control;
	int			 closing;	/* drop once the queue is out */
	int			 busy;		/* inside its callback */
	int			 dead;
};

struct ui {
	struct event_base	*base;
	int			 fd;
	char			 path[CONF_SOCK_MAX + 1];
	dev_t			 dev;
	ino_t			 ino;
	struct event		*lev;
	struct event		*reap;		/* frees dropped clients */
	TAILQ_HEAD(, ui_client)	 clients;
	int			 nclients;
	unsigned long		 next_id;
	char			*screen;	/* the last screen line */
	char			 kiosk_id[CONF_ID_MAX + 1];
	char			 store_name[CONF_NAME_MAX + 1];
	ui_cmd_fn		 cmd_cb;
	void			*cmd_arg;
};

static void	ui_client_drop(struct ui_client *, const char *why);

static void
ui_client_free(struct ui_client *c)
{
	struct ui *ui = c->ui;
	struct ui_client *n;
	int was_control = c->control;

	TAILQ_REMOVE(&ui->clients, c, entry);
	ui->nclients--;
	event_free(c->rev);
	event_free(c->wev);
	close(c->fd);
	evbuffer_free(c->out);
	secure_wipe(c->rbuf, sizeof(c->rbuf));
	free(c);
	if (was_control) {
		/* the oldest watcher takes over */
		TAILQ_FOREACH(n, &ui->clients, entry) {
			if (n->dead || n->closing)
				continue;
			n->control = 1;
			log_info("ui: client %lu now controls", n->id);
			ui_send(n, json_pack("{s:i, s:s, s:s}", "v", UI_PROTOCOL,
			    "type", "role", "role", "control"));
			break;
		}
	}
}

/* Dropped clients are freed from the loop, never under a caller. */
static void
ui_client_drop(struct ui_client *c, const char *why)
{
	if (c->dead)
		return;
	log_info("ui: client %lu dropped: %s", c->id, why);
	c->dead = 1;
	event_del(c->rev);
	event_del(c->wev);
	event_active(c->ui->reap, EV_TIMEOUT, 0);
}

static void
ui_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ui *ui = arg;
	struct ui_client *c;
	int again = 1;

	while (again) {
		again = 0;
		TAILQ_FOREACH(c, &ui->clients, entry) {
			if (c->dead && c->busy == 0) {
				ui_client_free(c);
				again = 1;
				break;
			}
		}
	}
}

static void
ui_update_write(struct ui_client *c)
{
	if (c->dead)
		return;
	if (evbuffer_get_length(c->out) == 0) {
		event_del(c->wev);
		if (c->closing)
			ui_client_drop(c, "closed after an error");
	} else if (!event_pending(c->wev, EV_WRITE, NULL) &&
	    event_add(c->wev, NULL) == -1)
		ui_client_drop(c, "cannot arm the write event");
}

/* Queue one line (takes the reference to j). */
void
ui_send(struct ui_client *c, json_t *j)
{
	char *s;

	if (j == NULL) {
		log_warnx("ui: cannot build a message for client %lu", c->id);
		return;
	}
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL || c->dead) {
		json_release(s);
		return;
	}
	if (evbuffer_get_length(c->out) + strlen(s) + 1 > UI_OUTQ_MAX) {
		json_release(s);
		ui_client_drop(c, "output queue full (client not reading)");
		return;
	}
	if (evbuffer_add(c->out, s, strlen(s)) == -1 ||
	    evbuffer_add(c->out, "\n", 1) == -1)
		ui_client_drop(c, "out of memory");
	json_release(s);
	ui_update_write(c);
}

void
ui_error(struct ui_client *c, const char *cmd, const char *code,
    const char *message, const char *message_ja)
{
	ui_send(c, json_pack("{s:i, s:s, s:s, s:s, s:s, s:s?}", "v",
	    UI_PROTOCOL, "type", "error", "code", code, "message", message,
	    "message_ja", message_ja, "cmd", cmd));
}

static void
ui_send_line(struct ui_client *c, const char *line)
{
	if (c->dead)
		return;
	if (evbuffer_get_length(c->out) + strlen(line) + 1 > UI_OUTQ_MAX) {
		ui_client_drop(c, "output queue full (client not reading)");
		return;
	}
	if (evbuffer_add(c->out, line, strlen(line)) == -1 ||
	    evbuffer_add(c->out, "\n", 1) == -1) {
		ui_client_drop(c, "out of memory");
		return;
	}
	ui_update_write(c);
}

void
ui_screen(struct ui *ui, json_t *screen)
{
	struct ui_client *c;
	char *s;

	if ((s = json_dumps(screen, JSON_COMPACT)) == NULL) {
		log_warnx("ui: cannot serialise a screen");
		return;
	}
	json_release(ui->screen);
	ui->screen = s;
	TAILQ_FOREACH(c, &ui->clients, entry)
		ui_send_line(c, s);
}

int
ui_nclients(const struct ui *ui)
{
	return ui->nclients;
}

static void
ui_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ui_client *c = arg;

	if (evbuffer_write(c->out, c->fd) == -1 && errno != EAGAIN &&
	    errno != EINTR) {
		ui_client_drop(c, errno == EPIPE || errno == ECONNRESET ?
		    "connection closed" : "write error");
		return;
	}
	ui_update_write(c);
}

/* One complete line (without its newline). */
static void
ui_line(struct ui_client *c, char *line, size_t len)
{
	json_error_t err;
	json_t *j, *v, *cmd;

	if (len == 0)
		return;
	j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
	if (j == NULL || !json_is_object(j)) {
		if (j != NULL)
			json_decref(j);
		ui_error(c, NULL, "bad_json", "The line is not a JSON object.",
		    "JSON オブジェクトではありません。");
		return;
	}
	v = json_object_get(j, "v");
	if (v != NULL && (!json_is_integer(v) ||
	    json_integer_value(v) != UI_PROTOCOL)) {
		ui_error(c, NULL, "unsupported_version",
		    "Only protocol version 1 is spoken here.",
		    "プロトコルのバージョンが違います。");
		json_decref(j);
		return;
	}
	cmd = json_object_get(j, "cmd");
	if (!json_is_string(cmd) || json_string_length(cmd) == 0 ||
	    json_string_length(cmd) > 32) {
		ui_error(c, NULL, "bad_command", "A \"cmd\" string is needed.",
		    "\"cmd\" がありません。");
		json_decref(j);
		return;
	}
	if (strcmp(json_string_value(cmd), "ping") == 0) {
		ui_send(c, json_pack("{s:i, s:s}", "v", UI_PROTOCOL, "type",
		    "pong"));
		json_decref(j);
		return;
	}
	if (!c->control) {
		ui_error(c, json_string_value(cmd), "not_controller",
		    "This client only watches; another one controls the kiosk.",
		    "この接続は表示専用です。");
		json_decref(j);
		return;
	}
	c->ui->cmd_cb(c, json_string_value(cmd), j, c->ui->cmd_arg);
	json_decref(j);
}

static void
ui_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ui_client *c = arg;
	char *nl;
	size_t off, n;
	ssize_t r;

	r = read(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen);
	if (r == -1) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		ui_client_drop(c, errno == ECONNRESET ? "connection reset" :
		    "read error");
		return;
	}
	if (r == 0) {
		ui_client_drop(c, "connection closed");
		return;
	}
	c->rlen += (size_t)r;
	c->busy++;
	off = 0;
	while (!c->dead && !c->closing && off < c->rlen &&
	    (nl = memchr(c->rbuf + off, '\n', c->rlen - off)) != NULL) {
		n = (size_t)(nl - (c->rbuf + off));
		ui_line(c, c->rbuf + off, n);
		secure_wipe(c->rbuf + off, n + 1);
		off += n + 1;
	}
	if (off > 0) {
		memmove(c->rbuf, c->rbuf + off, c->rlen - off);
		secure_wipe(c->rbuf + c->rlen - off, off);
		c->rlen -= off;
	}
	if (!c->dead && !c->closing && c->rlen == sizeof(c->rbuf)) {
		secure_wipe(c->rbuf, sizeof(c->rbuf));
		c->rlen = 0;
		ui_error(c, NULL, "line_too_long", "A line is over 8 KiB.",
		    "1行が長すぎます。");
		c->closing = 1;
		event_del(c->rev);
		ui_update_write(c);
	}
	c->busy--;
}

static void
ui_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct ui *ui = arg;
	struct ui_client *c;
	int fd;

	if ((fd = accept4(ui->fd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) == -1) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("ui: accept");
		return;
	}
	if (ui->nclients >= UI_CLIENTS_MAX) {
		log_warnx("ui: %d clients already, refusing one",
		    ui->nclients);
		close(fd);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("ui: client");
		close(fd);
		return;
	}
	c->ui = ui;
	c->fd = fd;
	c->id = ++ui->next_id;
	c->out = evbuffer_new();
	c->rev = event_new(ui->base, fd, EV_READ | EV_PERSIST, ui_read_cb, c);
	c->wev = event_new(ui->base, fd, EV_WRITE | EV_PERSIST, ui_write_cb,
	    c);
	if (c->out == NULL || c->rev == NULL || c->wev == NULL ||
	    event_add(c->rev, NULL) == -1) {
		log_warnx("ui: cannot set up a client");
		if (c->out != NULL)
			evbuffer_free(c->out);
		if (c->rev != NULL)
			event_free(c->rev);
		if (c->wev != NULL)
			event_free(c->wev);
		close(fd);
		free(c);
		return;
	}
	c->control = TAILQ_EMPTY(&ui->clients);
	TAILQ_INSERT_TAIL(&ui->clients, c, entry);
	ui->nclients++;
	log_info("ui: client %lu connected (%s)", c->id,
	    c->control ? "control" : "watch");
	ui_send(c, json_pack("{s:i, s:s, s:s, s:i, s:s, s:s, s:s}", "v",
	    UI_PROTOCOL, "type", "hello", "server", "kioskd", "protocol",
	    UI_PROTOCOL, "kiosk_id", ui->kiosk_id, "store_name",
	    ui->store_name, "role", c->control ? "control" : "watch"));
	if (ui->screen != NULL)
		ui_send_line(c, ui->screen);
}

/* Remove a stale socket at path; refuse to touch anything else. */
static int
ui_unlink_stale(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("ui: %s exists and is not a socket", path);
		errno = EEXIST;
		return -1;
	}
	return unlink(path);
}

struct ui *
ui_new(struct event_base *base, const struct conf_socket *sock,
    const char *kiosk_id, const char *store_name, ui_cmd_fn cb, void *arg)
{
	struct sockaddr_un sun;
	struct ui *ui;
	struct group *gr;
	struct stat st;
	mode_t old;

	if ((ui = calloc(1, sizeof(*ui))) == NULL)
		return NULL;
	ui->base = base;
	ui->fd = -1;
	ui->cmd_cb = cb;
	ui->cmd_arg = arg;
	TAILQ_INIT(&ui->clients);
	snprintf(ui->kiosk_id, sizeof(ui->kiosk_id), "%s", kiosk_id);
	snprintf(ui->store_name, sizeof(ui->store_name), "%s", store_name);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(sock->path) >= sizeof(sun.sun_path) ||
	    strlen(sock->path) >= sizeof(ui->path)) {
		log_warnx("ui: socket path too long: %s", sock->path);
		goto fail;
	}
	memcpy(sun.sun_path, sock->path, strlen(sock->path) + 1);
	memcpy(ui->path, sock->path, strlen(sock->path) + 1);
	if ((ui->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		log_warn("ui: socket");
		goto fail;
	}
	if (ui_unlink_stale(sock->path) == -1) {
		log_warn("ui: %s", sock->path);
		goto fail;
	}
	old = umask(0177);	/* nobody else until chmod below */
	if (bind(ui->fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		log_warn("ui: bind %s", sock->path);
		goto fail;
	}
	umask(old);
	if (sock->group[0] != '\0') {
		if ((gr = getgrnam(sock->group)) == NULL)
			log_warnx("ui: group %s does not exist; %s keeps our "
			    "group", sock->group, sock->path);
		else if (chown(sock->path, (uid_t)-1, gr->gr_gid) == -1)
			log_warn("ui: chown %s to group %s", sock->path,
			    sock->group);
	}
	if (chmod(sock->path, sock->mode) == -1) {
		log_warn("ui: chmod %s", sock->path);
		goto fail_unlink;
	}
	if (listen(ui->fd, UI_BACKLOG) == -1) {
		log_warn("ui: listen");
		goto fail_unlink;
	}
	if (stat(sock->path, &st) == 0) {
		ui->dev = st.st_dev;
		ui->ino = st.st_ino;
	}
	ui->lev = event_new(base, ui->fd, EV_READ | EV_PERSIST, ui_accept_cb,
	    ui);
	ui->reap = event_new(base, -1, 0, ui_reap_cb, ui);
	if (ui->lev == NULL || ui->reap == NULL ||
	    event_add(ui->lev, NULL) == -1) {
		log_warnx("ui: cannot watch the socket");
		goto fail_unlink;
	}
	log_info("ui: listening on %s (mode %04o)", sock->path,
	    (unsigned int)sock->mode);
	return ui;
fail_unlink:
	(void)unlink(sock->path);
fail:
	if (ui->lev != NULL)
		event_free(ui->lev);
	if (ui->reap != NULL)
		event_free(ui->reap);
	if (ui->fd != -1)
		close(ui->fd);
	free(ui);
	return NULL;
}

void
ui_free(struct ui *ui)
{
	struct ui_client *c;
	struct stat st;

	if (ui == NULL)
		return;
	while ((c = TAILQ_FIRST(&ui->clients)) != NULL) {
		c->control = 0;
		ui_client_free(c);
	}
	event_free(ui->lev);
	event_free(ui->reap);
	close(ui->fd);
	/* only our own socket: another kioskd may have replaced it */
	if (stat(ui->path, &st) == 0 && st.st_dev == ui->dev &&
	    st.st_ino == ui->ino)
		(void)unlink(ui->path);
	json_release(ui->screen);
	free(ui);
}
