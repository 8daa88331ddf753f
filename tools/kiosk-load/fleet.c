/*
 * kiosk-load's fleet: the test PKI (kiosk-pki), the seeded database
 * (kiosk-center-seed), an `openssl ocsp` responder and K kiosk-centerd
 * instances on one SQLite database and one SO_REUSEPORT port; starting,
 * killing, restarting and stopping them; loading the card identities.
 */
#define _XOPEN_SOURCE 700	/* nftw */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include "load.h"
#include "log.h"

#define READY_TIMEOUT_S	30
#define STOP_TIMEOUT_S	10

const char *
fleet_kiosk_id(int idx, char *buf, size_t len)
{
	(void)snprintf(buf, len, "L%04d-T01", idx + 1);
	return buf;
}

static void
card_name(int kiosk, int c, char *buf, size_t len)
{
	(void)snprintf(buf, len, "l%04d-c%d", kiosk + 1, c);
}

static int
path_join(char *dst, size_t len, const char *a, const char *b)
{
	if ((size_t)snprintf(dst, len, "%s/%s", a, b) >= len) {
		log_warnx("path too long: %s/%s", a, b);
		return -1;
	}
	return 0;
}

static int
exists(const char *path)
{
	struct stat	 st;

	return stat(path, &st) == 0;
}

static int
is_exec(const char *path)
{
	struct stat	 st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

/*
 * Where a tool of the tree is: --bindir (a build tree or a directory of
 * programs), else the build tree this binary sits in, else beside this
 * binary, else the bare name for execvp's PATH search.
 */
static void
find_tool(const struct load_config *cfg, const char *sub, const char *name,
    char *out, size_t len)
{
	char	 exe[PATH_MAX], d1[PATH_MAX], cand[PATH_MAX * 2];
	ssize_t	 n;
	char	*dir, *top;

	if (cfg->bindir != NULL) {
		(void)snprintf(cand, sizeof(cand), "%s/%s/%s", cfg->bindir,
		    sub, name);
		if (is_exec(cand) && strlen(cand) < len) {
			(void)snprintf(out, len, "%s", cand);
			return;
		}
		(void)snprintf(cand, sizeof(cand), "%s/%s", cfg->bindir, name);
		if (is_exec(cand) && strlen(cand) < len) {
			(void)snprintf(out, len, "%s", cand);
			return;
		}
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		(void)snprintf(d1, sizeof(d1), "%s", exe);
		dir = dirname(d1);			/* .../tools/kiosk-load */
		(void)snprintf(cand, sizeof(cand), "%s/%s", dir, name);
		if (is_exec(cand) && strlen(cand) < len) {
			(void)snprintf(out, len, "%s", cand);
			return;
		}
		top = dirname(dirname(dir));		/* the build tree */
		(void)snprintf(cand, sizeof(cand), "%s/%s/%s", top, sub, name);
		if (is_exec(cand) && strlen(cand) < len) {
			(void)snprintf(out, len, "%s", cand);
			return;
		}
	}
	(void)snprintf(out, len, "%s", name);
}

/* fork + exec with stdout/stderr appended to logpath (or /dev/null). */
static pid_t
spawn(char *const argv[], const char *logpath)
{
	pid_t		 pid, parent = getpid();
	int		 fd, in;
	sigset_t	 none;

	if ((pid = fork()) == -1) {
		log_warn("fork");
		return -1;
	}
	if (pid > 0)
		return pid;
	/* child: die with us, whatever happens to us */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	(void)sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_DFL);
	(void)signal(SIGINT, SIG_DFL);	/* not inherited SIG_IGN */
	(void)signal(SIGTERM, SIG_DFL);
	(void)setpgid(0, 0);	/* a terminal's ^C is ours to handle */
	if ((in = open("/dev/null", O_RDONLY)) != -1) {
		(void)dup2(in, STDIN_FILENO);
		if (in > STDERR_FILENO)
			(void)close(in);
	}
	fd = open(logpath != NULL ? logpath : "/dev/null",
	    O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd != -1) {
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			(void)close(fd);
	}
	if (strchr(argv[0], '/') != NULL)
		execv(argv[0], argv);
	else
		execvp(argv[0], argv);
	dprintf(STDERR_FILENO, "kiosk-load: exec %s: %s\n", argv[0],
	    strerror(errno));
	_exit(127);
}

/* Run to completion; 0 when it exited 0. */
static int
run_wait(char *const argv[], const char *logpath)
{
	pid_t	 pid;
	int	 status;

	if ((pid = spawn(argv, logpath)) == -1)
		return -1;
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			log_warn("waitpid");
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	log_warnx("%s failed (%s %d); see %s", argv[0], WIFSIGNALED(status) ?
	    "signal" : "status", WIFSIGNALED(status) ? WTERMSIG(status) :
	    WEXITSTATUS(status), logpath != NULL ? logpath : "its output");
	return -1;
}

static int
tcp_port_open(int port)
{
	struct sockaddr_in	 sa;
	int			 fd, rc;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	(void)close(fd);
	return rc == 0;
}

static void
sleep_ms(int ms)
{
	struct timespec	 ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

static double
children_cpu(void)
{
	struct rusage	 ru;

	if (getrusage(RUSAGE_CHILDREN, &ru) == -1)
		return 0;
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ---- PKI and database ---- */

static int
make_pki(struct fleet *f, int ncards_per_kiosk)
{
	const struct load_config *cfg = f->cfg;
	char		 path[PATH_MAX], id[32], name[64], log[PATH_MAX];
	char		*argv[8];
	pid_t		 running[64];
	long		 ncpu;
	int		 i, c, made = 0, nrun = 0, slots, status, k;

	if (path_join(log, sizeof(log), f->workdir, "pki.log") == -1 ||
	    path_join(path, sizeof(path), f->pki, "auth-ca.crt") == -1)
		return -1;
	if (!exists(path)) {
		if (!cfg->quiet)
			fprintf(stderr, "kiosk-load: creating the test PKI in "
			    "%s\n", f->pki);
		argv[0] = f->pki_bin;
		argv[1] = (char *)"init";
		argv[2] = f->pki;
		argv[3] = NULL;
		if (run_wait(argv, log) == -1)
			return -1;
		made = 1;
	}
	for (i = 0; i < cfg->kiosks; i++) {
		fleet_kiosk_id(i, id, sizeof(id));
		if ((size_t)snprintf(path, sizeof(path), "%s/kiosks/%s/kiosk.crt",
		    f->pki, id) >= sizeof(path))
			return -1;
		if (exists(path))
			continue;
		argv[0] = f->pki_bin;
		argv[1] = (char *)"kiosk";
		argv[2] = f->pki;
		argv[3] = id;
		argv[4] = NULL;
		if (run_wait(argv, log) == -1)
			return -1;
		made = 1;
	}
	/* Card keys are RSA-2048: make them on every CPU at once (kiosk-pki
	   locks its store for the index updates). */
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	slots = ncpu < 1 ? 1 : ncpu > 32 ? 32 : (int)ncpu;
	for (i = 0; i < cfg->kiosks; i++) {
		for (c = 0; c < ncards_per_kiosk; c++) {
			card_name(i, c, name, sizeof(name));
			if ((size_t)snprintf(path, sizeof(path),
			    "%s/cards/%s/info.txt", f->pki, name) >=
			    sizeof(path))
				return -1;
			if (exists(path))
				continue;
			if (load_signals > 0) {
				log_warnx("interrupted");
				goto fail;
			}
			if (!made && !cfg->quiet)
				fprintf(stderr, "kiosk-load: making card "
				    "identities (RSA-2048) in %s\n", f->pki);
			made = 1;
			while (nrun >= slots) {
				pid_t p = wait(&status);

				if (p == -1 && errno != EINTR)
					return -1;
				for (k = 0; k < nrun; k++)
					if (running[k] == p)
						break;
				if (k == nrun)
					continue;
				running[k] = running[--nrun];
				if (!WIFEXITED(status) ||
				    WEXITSTATUS(status) != 0) {
					log_warnx("kiosk-pki card failed; see "
					    "%s", log);
					goto fail;
				}
			}
			argv[0] = f->pki_bin;
			argv[1] = (char *)"card";
			argv[2] = f->pki;
			argv[3] = name;
			argv[4] = (char *)"--no-sign-cert";
			argv[5] = NULL;
			if ((running[nrun] = spawn(argv, log)) == -1)
				goto fail;
			nrun++;
		}
	}
	while (nrun > 0) {
		pid_t p = wait(&status);

		if (p == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (k = 0; k < nrun; k++)
			if (running[k] == p)
				break;
		if (k == nrun)
			continue;
		running[k] = running[--nrun];
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			log_warnx("kiosk-pki card failed; see %s", log);
			goto fail;
		}
	}
	return made;
fail:
	for (k = 0; k < nrun; k++) {
		(void)kill(running[k], SIGTERM);
		(void)waitpid(running[k], &status, 0);
	}
	return -1;
}

/* Card identities in the PKI: an earlier, larger run may have left more
   than this run uses, and the seed binds every one of them. */
static int
pki_cards(const struct fleet *f)
{
	char		 path[PATH_MAX];
	struct dirent	*e;
	DIR		*d;
	int		 n = 0;

	if (path_join(path, sizeof(path), f->pki, "cards") == -1 ||
	    (d = opendir(path)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	(void)closedir(d);
	return n;
}

static int
seed_db(struct fleet *f, int total_cards)
{
	char		 log[PATH_MAX], res[32];
	char		*argv[8];
	int		 residents, n;

	if (path_join(log, sizeof(log), f->workdir, "seed.log") == -1)
		return -1;
	if ((n = pki_cards(f)) > total_cards)
		total_cards = n;
	/* ordinary adults are roughly a third of a synthetic town */
	residents = total_cards * 4 + 300;
	if (residents > 100000)
		residents = 100000;
	(void)snprintf(res, sizeof(res), "%d", residents);
	argv[0] = f->seed_bin;
	argv[1] = f->db;
	argv[2] = (char *)"--certs";
	argv[3] = f->pki;
	argv[4] = (char *)"--residents";
	argv[5] = res;
	argv[6] = NULL;
	if (!f->cfg->quiet)
		fprintf(stderr, "kiosk-load: seeding %s (binding the cards)\n",
		    f->db);
	return run_wait(argv, log);
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) == -1 ? -1 : 0;
	return unlink(path) == -1 ? -1 : 0;
}

int
fleet_prepare(struct fleet *f, const struct load_config *cfg,
    int want_centers)
{
	char	 tmpl[] = "/tmp/kiosk-load.XXXXXX";
	int	 made, db_new;

	memset(f, 0, sizeof(*f));
	f->cfg = cfg;
	f->ocsp_pid = -1;
	find_tool(cfg, "certs", "kiosk-pki", f->pki_bin, sizeof(f->pki_bin));
	find_tool(cfg, "center", "kiosk-center-seed", f->seed_bin,
	    sizeof(f->seed_bin));
	find_tool(cfg, "center", "kiosk-centerd", f->centerd,
	    sizeof(f->centerd));

	if (cfg->workdir != NULL) {
		if (mkdir(cfg->workdir, 0700) == -1 && errno != EEXIST) {
			log_warn("mkdir %s", cfg->workdir);
			return -1;
		}
		(void)snprintf(f->workdir, sizeof(f->workdir), "%s",
		    cfg->workdir);
	} else {
		if (mkdtemp(tmpl) == NULL) {
			log_warn("mkdtemp");
			return -1;
		}
		(void)snprintf(f->workdir, sizeof(f->workdir), "%s", tmpl);
		f->own_workdir = 1;
	}
	if (cfg->pki != NULL)
		(void)snprintf(f->pki, sizeof(f->pki), "%s", cfg->pki);
	else if (path_join(f->pki, sizeof(f->pki), f->workdir, "pki") == -1)
		return -1;
	if (cfg->db != NULL)
		(void)snprintf(f->db, sizeof(f->db), "%s", cfg->db);
	else if (want_centers && path_join(f->db, sizeof(f->db), f->workdir,
	    "town.db") == -1)
		return -1;

	if ((made = make_pki(f, cfg->cards_per_kiosk)) == -1)
		return -1;
	if (want_centers) {
		db_new = !exists(f->db);
		if ((db_new || made) && seed_db(f, cfg->kiosks *
		    cfg->cards_per_kiosk) == -1)
			return -1;
		(void)snprintf(f->url, sizeof(f->url), "https://127.0.0.1:%d",
		    cfg->port);
		(void)snprintf(f->ocsp_url, sizeof(f->ocsp_url),
		    "http://127.0.0.1:%d", cfg->port + 1);
	} else {
		if (made && f->db[0] != '\0') {
			if (seed_db(f, cfg->kiosks * cfg->cards_per_kiosk) == -1)
				return -1;
		} else if (made)
			log_warnx("new card identities were made in %s but no "
			    "--db names the center's database: they are bound "
			    "to no resident", f->pki);
		(void)snprintf(f->url, sizeof(f->url), "%s", cfg->urls[0]);
	}
	return 0;
}

/* ---- processes ---- */

static int
count_in_file(const char *path, off_t from, const char *needle)
{
	FILE	*fp;
	char	 line[1024];
	int	 n = 0;

	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	if (fseeko(fp, from, SEEK_SET) == 0)
		while (fgets(line, sizeof(line), fp) != NULL)
			if (strstr(line, needle) != NULL)
				n++;
	(void)fclose(fp);
	return n;
}

static off_t
file_size(const char *path)
{
	struct stat	 st;

	return stat(path, &st) == 0 ? st.st_size : 0;
}

int
fleet_spawn_center(struct fleet *f, int i)
{
	const struct load_config *cfg = f->cfg;
	char	*argv[64 + LOAD_EXTRA_ARGS_MAX];
	char	 listen[64], procs[16], threads[16];
	char	 cert[PATH_MAX], key[PATH_MAX], cca[PATH_MAX], crl[PATH_MAX];
	char	 roots[PATH_MAX], dkey[PATH_MAX], dcert[PATH_MAX];
	int	 n = 0, k;

	if (path_join(cert, sizeof(cert), f->pki, "center.crt") == -1 ||
	    path_join(key, sizeof(key), f->pki, "center.key") == -1 ||
	    path_join(cca, sizeof(cca), f->pki, "fleet-ca.crt") == -1 ||
	    path_join(crl, sizeof(crl), f->pki, "fleet-crl.pem") == -1 ||
	    path_join(roots, sizeof(roots), f->pki, "auth-ca.crt") == -1 ||
	    path_join(dkey, sizeof(dkey), f->pki, "docsign.key") == -1 ||
	    path_join(dcert, sizeof(dcert), f->pki, "docsign.crt") == -1)
		return -1;
	(void)snprintf(listen, sizeof(listen), "127.0.0.1:%d", cfg->port);
	(void)snprintf(procs, sizeof(procs), "%d", cfg->center_processes);
	(void)snprintf(threads, sizeof(threads), "%d", cfg->center_threads);
	argv[n++] = f->centerd;
	argv[n++] = (char *)"-d";	/* foreground, info log to a file */
	argv[n++] = (char *)"--db";
	argv[n++] = f->db;
	argv[n++] = (char *)"--listen";
	argv[n++] = listen;
	argv[n++] = (char *)"--cert";
	argv[n++] = cert;
	argv[n++] = (char *)"--key";
	argv[n++] = key;
	argv[n++] = (char *)"--client-ca";
	argv[n++] = cca;
	if (exists(crl)) {
		argv[n++] = (char *)"--client-crl";
		argv[n++] = crl;
	}
	argv[n++] = (char *)"--auth-roots";
	argv[n++] = roots;
	argv[n++] = (char *)"--ocsp";
	argv[n++] = f->ocsp_url;
	argv[n++] = (char *)"--ocsp-timeout";
	argv[n++] = (char *)"2000";
	argv[n++] = (char *)"--doc-key";
	argv[n++] = dkey;
	argv[n++] = (char *)"--doc-cert";
	argv[n++] = dcert;
	argv[n++] = (char *)"--service-hours";
	argv[n++] = (char *)"00:00-24:00";
	argv[n++] = (char *)"--koseki-days";
	argv[n++] = (char *)"all";
	argv[n++] = (char *)"--koseki-hours";
	argv[n++] = (char *)"00:00-24:00";
	argv[n++] = (char *)"--newyear-closed";
	argv[n++] = (char *)"no";
	argv[n++] = (char *)"--processes";
	argv[n++] = procs;
	argv[n++] = (char *)"--threads";
	argv[n++] = threads;
	for (k = 0; k < cfg->ncenter_args; k++)
		argv[n++] = (char *)cfg->center_args[k];
	argv[n] = NULL;
	if ((f->centers[i].pid = spawn(argv, f->centers[i].log)) == -1)
		return -1;
	return 0;
}

static int
wait_ready(struct fleet *f, int i, off_t from)
{
	double	 t0 = now_s();
	int	 status;

	while (now_s() - t0 < READY_TIMEOUT_S) {
		if (load_signals > 0) {
			log_warnx("interrupted while starting center %d", i);
			return -1;
		}
		if (count_in_file(f->centers[i].log, from, "serving on ") >=
		    f->cfg->center_processes)
			return 0;
		if (waitpid(f->centers[i].pid, &status, WNOHANG) ==
		    f->centers[i].pid) {
			f->centers[i].pid = -1;
			log_warnx("center %d exited at start; see %s", i,
			    f->centers[i].log);
			return -1;
		}
		sleep_ms(20);
	}
	log_warnx("center %d not ready after %d s; see %s", i,
	    READY_TIMEOUT_S, f->centers[i].log);
	return -1;
}

/*
 * The `openssl ocsp` responder (one connection at a time).  OpenSSL 3.0's
 * responder spins forever on a connection closed before a whole request
 * arrived, which is what a center killed mid-query leaves behind: the
 * fault injector restarts it after every kill.
 */
int
fleet_start_ocsp(struct fleet *f)
{
	const struct load_config *cfg = f->cfg;
	char	 idx[PATH_MAX], ocert[PATH_MAX], okey[PATH_MAX], ca[PATH_MAX];
	char	 log[PATH_MAX], port[16];
	char	*argv[20];
	off_t	 from;
	int	 i;

	if (path_join(idx, sizeof(idx), f->pki, "index.txt") == -1 ||
	    path_join(ocert, sizeof(ocert), f->pki, "ocsp.crt") == -1 ||
	    path_join(okey, sizeof(okey), f->pki, "ocsp.key") == -1 ||
	    path_join(ca, sizeof(ca), f->pki, "auth-ca.crt") == -1 ||
	    path_join(log, sizeof(log), f->workdir, "ocsp.log") == -1)
		return -1;
	(void)snprintf(port, sizeof(port), "%d", cfg->port + 1);
	argv[0] = (char *)"openssl";
	argv[1] = (char *)"ocsp";
	argv[2] = (char *)"-index";
	argv[3] = idx;
	argv[4] = (char *)"-port";
	argv[5] = port;
	argv[6] = (char *)"-rsigner";
	argv[7] = ocert;
	argv[8] = (char *)"-rkey";
	argv[9] = okey;
	argv[10] = (char *)"-CA";
	argv[11] = ca;
	argv[12] = (char *)"-nmin";
	argv[13] = (char *)"5";
	argv[14] = NULL;
	from = file_size(log);
	if ((f->ocsp_pid = spawn(argv, log)) == -1)
		return -1;
	/*
	 * Ready when it says so: probing the port with an empty connection
	 * sends `openssl ocsp` (3.0) into a busy loop.
	 */
	for (i = 0; count_in_file(log, from, "waiting for OCSP client") == 0;
	    i++) {
		if (i > 500 || load_signals > 0 || waitpid(f->ocsp_pid,
		    NULL, WNOHANG) == f->ocsp_pid) {
			log_warnx("the OCSP responder did not start; see %s",
			    log);
			return -1;
		}
		sleep_ms(10);
	}

	return 0;
}

void
fleet_restart_ocsp(struct fleet *f)
{
	int	 status;

	if (f->ocsp_pid > 0) {
		(void)kill(f->ocsp_pid, SIGKILL);
		while (waitpid(f->ocsp_pid, &status, 0) == -1 &&
		    errno == EINTR)
			continue;
		f->ocsp_pid = -1;
	}
	if (fleet_start_ocsp(f) == -1)
		log_warnx("the OCSP responder could not be restarted");
}

/* Restart the responder if it died; 1 when it did. */
int
fleet_check_ocsp(struct fleet *f)
{
	if (f->ocsp_pid <= 0 || waitpid(f->ocsp_pid, NULL, WNOHANG) !=
	    f->ocsp_pid)
		return 0;
	f->ocsp_pid = -1;
	log_warnx("the OCSP responder exited; restarting it");
	if (fleet_start_ocsp(f) == -1)
		log_warnx("the OCSP responder could not be restarted");
	return 1;
}

int
fleet_start_centers(struct fleet *f)
{
	const struct load_config *cfg = f->cfg;
	char	 name[32];
	off_t	 from;
	int	 i;

	if (tcp_port_open(cfg->port) || tcp_port_open(cfg->port + 1)) {
		log_warnx("port %d or %d on 127.0.0.1 is already in use (a "
		    "center left running?): choose another with --port",
		    cfg->port, cfg->port + 1);
		return -1;
	}
	if (fleet_start_ocsp(f) == -1)
		return -1;
	/* the serving processes of a killed multi-process center are ours
	   to reap (fleet_kill_center) */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("PR_SET_CHILD_SUBREAPER");

	f->child_cpu0 = children_cpu();
	f->ncenters = cfg->centers;
	for (i = 0; i < f->ncenters; i++) {
		(void)snprintf(name, sizeof(name), "center%d.log", i);
		if (path_join(f->centers[i].log, sizeof(f->centers[i].log),
		    f->workdir, name) == -1)
			return -1;
		from = file_size(f->centers[i].log);
		if (fleet_spawn_center(f, i) == -1 || wait_ready(f, i, from) ==
		    -1)
			return -1;
	}
	return 0;
}

/* The serving processes of a multi-process center. */
static int
children_of(pid_t pid, pid_t *out, int max)
{
	char	 path[64], buf[4096], *p, *e;
	FILE	*fp;
	int	 n = 0;
	long	 v;

	(void)snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children",
	    (long)pid, (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), fp) != NULL) {
		for (p = buf; n < max; p = e) {
			errno = 0;
			v = strtol(p, &e, 10);
			if (e == p || errno != 0 || v <= 0)
				break;
			out[n++] = (pid_t)v;
		}
	}
	(void)fclose(fp);
	return n;
}

int
fleet_kill_center(struct fleet *f, int i)
{
	pid_t	 kids[64];
	int	 n, k, status;

	if (i < 0 || i >= f->ncenters || f->centers[i].pid <= 0)
		return -1;
	n = children_of(f->centers[i].pid, kids, 64);
	for (k = 0; k < n; k++)
		(void)kill(kids[k], SIGKILL);
	(void)kill(f->centers[i].pid, SIGKILL);
	while (waitpid(f->centers[i].pid, &status, 0) == -1 && errno == EINTR)
		continue;
	/* orphaned serving processes come to us (subreaper): reap them so
	   their CPU time is counted; ECHILD if they went elsewhere */
	for (k = 0; k < n; k++)
		while (waitpid(kids[k], &status, 0) == -1 && errno == EINTR)
			continue;
	f->centers[i].pid = -1;
	f->centers[i].kills++;
	return 0;
}

static void
stop_pid(pid_t *pidp, const char *what)
{
	double	 t0;
	int	 status;

	if (*pidp <= 0)
		return;
	(void)kill(*pidp, SIGTERM);
	t0 = now_s();
	for (;;) {
		pid_t r = waitpid(*pidp, &status, WNOHANG);

		if (r == *pidp || (r == -1 && errno != EINTR))
			break;
		if (now_s() - t0 > STOP_TIMEOUT_S) {
			log_warnx("%s (pid %ld) ignored SIGTERM: killing it",
			    what, (long)*pidp);
			(void)kill(*pidp, SIGKILL);
			(void)waitpid(*pidp, &status, 0);
			break;
		}
		sleep_ms(10);
	}
	*pidp = -1;
}

void
fleet_stop(struct fleet *f)
{
	int	 i;
	int	 had = 0;

	for (i = 0; i < f->ncenters; i++)
		if (f->centers[i].pid > 0) {
			had = 1;
			(void)kill(f->centers[i].pid, SIGTERM);
		}
	for (i = 0; i < f->ncenters; i++)
		stop_pid(&f->centers[i].pid, "kiosk-centerd");
	if (had)
		f->center_cpu = children_cpu() - f->child_cpu0;
	stop_pid(&f->ocsp_pid, "openssl ocsp");
}

void
fleet_cleanup(struct fleet *f)
{
	if (!f->own_workdir || f->cfg == NULL)
		return;
	if (f->cfg->keep) {
		fprintf(stderr, "kiosk-load: work directory kept: %s\n",
		    f->workdir);
		return;
	}
	if (nftw(f->workdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS) == -1)
		log_warn("cannot remove %s", f->workdir);
}

/* ---- card identities ---- */

void
fleet_free_card(struct card *c)
{
	free(c->der);
	EVP_PKEY_free(c->key);
	memset(c, 0, sizeof(*c));
}

static int
cert_serial_hex(X509 *x, char *out, size_t len)
{
	BIGNUM	*bn;
	char	*hex, *p;
	int	 rc = -1;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ==
	    NULL)
		return -1;
	if ((hex = BN_bn2hex(bn)) != NULL) {
		for (p = hex; *p == '0' && p[1] != '\0'; p++)
			continue;
		if (strlen(p) < len) {
			(void)snprintf(out, len, "%s", p);
			rc = 0;
		}
		OPENSSL_free(hex);
	}
	BN_free(bn);
	return rc;
}

int
fleet_load_cards(const struct fleet *f, int idx, int ncards, struct card *cards,
    char *err, size_t errlen)
{
	char		 path[PATH_MAX];
	FILE		*fp;
	X509		*x;
	unsigned char	*der;
	unsigned int	 mdlen;
	int		 c, len, i;

	for (c = 0; c < ncards; c++) {
		struct card *cd = &cards[c];

		memset(cd, 0, sizeof(*cd));
		card_name(idx, c, cd->name, sizeof(cd->name));
		if ((size_t)snprintf(path, sizeof(path), "%s/cards/%s/auth.crt",
		    f->pki, cd->name) >= sizeof(path) ||
		    (fp = fopen(path, "r")) == NULL) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		x = PEM_read_X509(fp, NULL, NULL, NULL);
		(void)fclose(fp);
		if (x == NULL) {
			snprintf(err, errlen, "%s: not a PEM certificate",
			    path);
			return -1;
		}
		der = NULL;
		if ((len = i2d_X509(x, &der)) <= 0 ||
		    cert_serial_hex(x, cd->serial, sizeof(cd->serial)) == -1) {
			X509_free(x);
			OPENSSL_free(der);
			snprintf(err, errlen, "%s: cannot encode", path);
			return -1;
		}
		X509_free(x);
		if ((cd->der = malloc((size_t)len)) == NULL) {
			OPENSSL_free(der);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		memcpy(cd->der, der, (size_t)len);
		cd->derlen = (size_t)len;
		OPENSSL_free(der);
		if (EVP_Digest(cd->der, cd->derlen, cd->sha256, &mdlen,
		    EVP_sha256(), NULL) != 1 || mdlen != 32) {
			snprintf(err, errlen, "SHA-256 failed");
			return -1;
		}
		for (i = 0; i < 32; i++)
			(void)snprintf(cd->sha256_hex + 2 * i, 3, "%02x",
			    cd->sha256[i]);
		if ((size_t)snprintf(path, sizeof(path), "%s/cards/%s/auth.key",
		    f->pki, cd->name) >= sizeof(path) ||
		    (fp = fopen(path, "r")) == NULL) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		cd->key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
		(void)fclose(fp);
		if (cd->key == NULL || EVP_PKEY_get_base_id(cd->key) !=
		    EVP_PKEY_RSA) {
			snprintf(err, errlen, "%s: not a PEM RSA key", path);
			return -1;
		}
	}
	return 0;
}

int
fleet_card_residents(const char *db, struct card *cards, size_t n, char *err,
    size_t errlen)
{
	sqlite3		*h = NULL;
	sqlite3_stmt	*st = NULL;
	size_t		 i;
	int		 rc, ret = -1;
	const unsigned char *fam, *giv, *birth;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", db, h != NULL ?
		    sqlite3_errmsg(h) : "cannot open");
		goto out;
	}
	(void)sqlite3_busy_timeout(h, 10000);
	if (sqlite3_prepare_v2(h, "SELECT r.id, r.family_name, r.given_name, "
	    "r.birth_date FROM card_certs c JOIN residents r ON r.id = "
	    "c.resident_id WHERE c.serial = ?1", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", db, sqlite3_errmsg(h));
		goto out;
	}
	for (i = 0; i < n; i++) {
		(void)sqlite3_reset(st);
		if (sqlite3_bind_text(st, 1, cards[i].serial, -1,
		    SQLITE_STATIC) != SQLITE_OK) {
			snprintf(err, errlen, "%s: %s", db, sqlite3_errmsg(h));
			goto out;
		}
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE) {
			snprintf(err, errlen, "card %s (serial %s) is bound to "
			    "no resident in %s", cards[i].name,
			    cards[i].serial, db);
			goto out;
		}
		if (rc != SQLITE_ROW) {
			snprintf(err, errlen, "%s: %s", db, sqlite3_errmsg(h));
			goto out;
		}
		cards[i].resident_id = sqlite3_column_int64(st, 0);
		fam = sqlite3_column_text(st, 1);
		giv = sqlite3_column_text(st, 2);
		birth = sqlite3_column_text(st, 3);
		if (fam == NULL || giv == NULL || birth == NULL) {
			snprintf(err, errlen, "%s: resident %lld incomplete",
			    db, (long long)cards[i].resident_id);
			goto out;
		}
		(void)snprintf(cards[i].res_name, sizeof(cards[i].res_name),
		    "%s %s", fam, giv);
		(void)snprintf(cards[i].res_birth, sizeof(cards[i].res_birth),
		    "%s", birth);
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
	return ret;
}
