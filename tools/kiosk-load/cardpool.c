/*
 * The simulated cards' signatures, off the event loop.
 *
 * A real kiosk's card signs the challenge on its own chip while the kiosk
 * and every other kiosk go on.  Here 200 kiosks share one event loop: an
 * RSA-2048 signature made in it (about a millisecond) would hold every
 * other kiosk's answers in their sockets, and a burst of challenges would
 * show up as the center's latency.  So a few threads make the signatures
 * and hand each one back to the loop through a pipe; the kiosk goes on
 * from there.  The CPU spent is the same; only the loop stays free.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/evp.h>

#include "load.h"
#include "log.h"

struct sign_job {
	EVP_PKEY	*key;
	uint8_t		 msg[LOAD_CHALLENGE_LEN];
	uint8_t		 sig[512];
	size_t		 siglen;
	double		 secs;
	int		 ok;
	cardpool_done_fn done;
	void		*arg;
	struct sign_job	*next;
};

struct cardpool {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct sign_job	*head, *tail;	/* to sign */
	struct sign_job	*done;		/* signed, for the loop */
	int		 stopping;
	int		 nthreads;
	pthread_t	*threads;
	int		 pipe[2];	/* threads -> loop */
	struct event	*ev;
};

/* This thread's CPU time: the signature's cost, not the wait for a core. */
static double
thread_cpu_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == -1)
		return now_s();
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
job_sign(struct sign_job *j)
{
	EVP_MD_CTX *md;
	double t0 = thread_cpu_s();

	j->siglen = sizeof(j->sig);
	j->ok = (md = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, j->key) == 1 &&
	    EVP_DigestSign(md, j->sig, &j->siglen, j->msg, sizeof(j->msg)) == 1;
	EVP_MD_CTX_free(md);
	j->secs = thread_cpu_s() - t0;
}

static void *
signer_main(void *arg)
{
	struct cardpool *p = arg;
	struct sign_job *j;
	int was_empty;

	for (;;) {
		(void)pthread_mutex_lock(&p->mu);
		while (p->head == NULL && !p->stopping)
			(void)pthread_cond_wait(&p->cv, &p->mu);
		if ((j = p->head) == NULL) {
			(void)pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		if ((p->head = j->next) == NULL)
			p->tail = NULL;
		(void)pthread_mutex_unlock(&p->mu);

		job_sign(j);

		(void)pthread_mutex_lock(&p->mu);
		was_empty = p->done == NULL;
		j->next = p->done;
		p->done = j;
		(void)pthread_mutex_unlock(&p->mu);
		if (was_empty && write(p->pipe[1], "s", 1) == -1 &&
		    errno != EAGAIN)
			log_warn("cardpool: pipe");
	}
}

/* In the loop: every finished signature to its kiosk, oldest first. */
static void
on_signed(evutil_socket_t fd, short ev, void *arg)
{
	struct cardpool *p = arg;
	struct sign_job *list, *j, *rev = NULL;
	char buf[64];

	(void)ev;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	(void)pthread_mutex_lock(&p->mu);
	list = p->done;
	p->done = NULL;
	(void)pthread_mutex_unlock(&p->mu);
	while ((j = list) != NULL) {
		list = j->next;
		j->next = rev;
		rev = j;
	}
	while ((j = rev) != NULL) {
		rev = j->next;
		j->done(j->arg, j->ok ? j->sig : NULL, j->siglen, j->secs);
		free(j);
	}
}

struct cardpool *
cardpool_new(struct event_base *base, int nthreads)
{
	struct cardpool *p;
	int i, fl;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->pipe[0] = p->pipe[1] = -1;
	if (pthread_mutex_init(&p->mu, NULL) != 0 ||
	    pthread_cond_init(&p->cv, NULL) != 0 || pipe(p->pipe) == -1)
		goto fail;
	for (i = 0; i < 2; i++)
		if ((fl = fcntl(p->pipe[i], F_GETFL)) == -1 ||
		    fcntl(p->pipe[i], F_SETFL, fl | O_NONBLOCK) == -1 ||
		    fcntl(p->pipe[i], F_SETFD, FD_CLOEXEC) == -1)
			goto fail;
	if ((p->ev = event_new(base, p->pipe[0], EV_READ | EV_PERSIST,
	    on_signed, p)) == NULL || event_add(p->ev, NULL) == -1)
		goto fail;
	if ((p->threads = calloc((size_t)nthreads, sizeof(pthread_t))) ==
	    NULL)
		goto fail;
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&p->threads[i], NULL, signer_main, p) != 0)
			goto fail;
		p->nthreads++;
	}
	return p;
fail:
	cardpool_free(p);
	return NULL;
}

int
cardpool_sign(struct cardpool *p, EVP_PKEY *key, const uint8_t *msg,
    cardpool_done_fn done, void *arg)
{
	struct sign_job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -1;
	j->key = key;
	memcpy(j->msg, msg, sizeof(j->msg));
	j->done = done;
	j->arg = arg;
	(void)pthread_mutex_lock(&p->mu);
	if (p->tail != NULL)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	(void)pthread_cond_signal(&p->cv);
	(void)pthread_mutex_unlock(&p->mu);
	return 0;
}

/* Stops the threads (a queued signature is still made, then dropped). */
void
cardpool_free(struct cardpool *p)
{
	struct sign_job *j;
	int i;

	if (p == NULL)
		return;
	(void)pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	(void)pthread_cond_broadcast(&p->cv);
	(void)pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		(void)pthread_join(p->threads[i], NULL);
	while ((j = p->done) != NULL) {
		p->done = j->next;
		free(j);
	}
	if (p->ev != NULL)
		event_free(p->ev);
	for (i = 0; i < 2; i++)
		if (p->pipe[i] != -1)
			(void)close(p->pipe[i]);
	free(p->threads);
	(void)pthread_cond_destroy(&p->cv);
	(void)pthread_mutex_destroy(&p->mu);
	free(p);
}
