/*
 * printer_state_parse() and spool_job_parse() on attribute sets built by
 * hand: the answers a printer and a CUPS queue give in each condition.
 */
#include <stdio.h>
#include <string.h>

#include <cups/cups.h>

#include "printer_state.h"
#include "spool.h"
#include "spool_ipp.h"
#include "t.h"

#define A4	"iso_a4_210x297mm"

/* A printer's answer: state, reasons (NULL: none sent), media-ready. */
static ipp_t *
printer(int state, int nreasons, const char *const *reasons, int nmedia,
    const char *const *media)
{
	ipp_t *r = ippNew();

	ippAddInteger(r, IPP_TAG_PRINTER, IPP_TAG_ENUM, "printer-state",
	    state);
	if (nreasons > 0)
		ippAddStrings(r, IPP_TAG_PRINTER, IPP_TAG_KEYWORD,
		    "printer-state-reasons", nreasons, NULL, reasons);
	if (nmedia > 0)
		ippAddStrings(r, IPP_TAG_PRINTER, IPP_TAG_KEYWORD,
		    "media-ready", nmedia, NULL, media);
	return r;
}

static void
eval(ipp_t *r, enum pstate_source src, struct printer_state *st)
{
	printer_state_init(st);
	printer_state_parse(r, src, A4, st);
	printer_state_finish(st);
	ippDelete(r);
}

static void
add_supply(ipp_t *r, const char *const *s, int n)
{
	ipp_attribute_t *a = NULL;
	int i;

	for (i = 0; i < n; i++) {
		if (a == NULL)
			a = ippAddOctetString(r, IPP_TAG_PRINTER,
			    "printer-supply", s[i], (int)strlen(s[i]));
		else
			ippSetOctetString(r, &a, i, s[i], (int)strlen(s[i]));
	}
}

static void
test_printer(void)
{
	static const char *const a4[] = { A4, A4 };
	static const char *const letter[] = { "na_letter_8.5x11in" };
	static const char *const none[] = { "none" };
	static const char *const empty_r[] = { "media-empty-report" };
	static const char *const empty_w[] = { "media-empty-warning",
	    "media-needed-warning" };
	static const char *const low[] = { "media-low-report",
	    "toner-low-report" };
	static const char *const toner0[] = { "toner-empty-error" };
	static const char *const jam[] = { "media-jam-error" };
	static const char *const door[] = { "cover-open" };
	static const char *const weird[] = { "x-vendor-thing-error" };
	static const char *const weirdw[] = { "x-vendor-thing-warning" };
	static const char *const both[] = { "toner-low-report",
	    "media-jam-warning", "media-empty-report" };
	static const char *const sup[] = {
		"index=1;class=receptacleThatIsFilled;type=wasteToner;"
		    "unit=percent;maxcapacity=100;level=25;",
		"index=2;class=supplyThatIsConsumed;type=toner;unit=percent;"
		    "maxcapacity=100;level=5;colorantname=black;",
		"garbage without fields",
		"type=toner;level=abc;maxcapacity=100;",
	};
	struct printer_state st;
	ipp_t *r;

	eval(printer(3, 1, none, 2, a4), PSTATE_SRC_PRINTER, &st);
	T_CHECK(st.ready && st.flags == 0 && strcmp(st.reason, "ok") == 0,
	    "idle, none, A4 loaded: ready, ok");
	T_CHECK(strcmp(st.media_ready, A4) == 0,
	    "media-ready listed once");

	eval(printer(3, 1, empty_r, 1, a4), PSTATE_SRC_PRINTER, &st);
	T_CHECK(!st.ready && (st.flags & PSTATE_F_MEDIA_EMPTY) &&
	    strcmp(st.reason, "media-empty") == 0,
	    "media-empty-report (idle printer): not ready, media-empty");
	T_CHECK(strcmp(st.reasons, "media-empty-report") == 0,
	    "reasons keep the severity suffix");

	eval(printer(4, 2, empty_w, 1, a4), PSTATE_SRC_PRINTER, &st);
	T_CHECK(!st.ready && strcmp(st.reason, "media-empty") == 0,
	    "media-empty-warning + media-needed (job waits): media-empty");

	eval(printer(3, 2, low, 2, a4), PSTATE_SRC_PRINTER, &st);
	T_CHECK(st.ready && (st.flags & PSTATE_F_MEDIA_LOW) &&
	    (st.flags & PSTATE_F_TONER_LOW) &&
	    strcmp(st.reason, "media-low") == 0,
	    "media-low + toner-low: ready with a warning");

	eval(printer(5, 1, toner0, 2, a4), PSTATE_SRC_PRINTER, &st);
	T_CHECK(!st.ready && strcmp(st.reason, "toner-empty") == 0 &&
	    (st.flags & PSTATE_F_STOPPED),
	    "toner-empty on a stopped printer: toner-empty named first");

	eval(printer(5, 1, jam, 2, a4), PSTATE_SRC_PRINTER, &st);
	T_CHECK(!st.ready && strcmp(st.reason, "media-jam") == 0, "jam");

	eval(printer(3, 1, door, 2, a4), PSTATE_SRC_PRINTER, &st);
	T_CHECK(!st.ready && strcmp(st.reason, "door-open") == 0,
	    "cover-open without suffix is an error: door-open");

	eval(printer(3, 3, both, 2, a4), PSTATE_SRC_PRINTER, &st);
	T_CHECK(!st.ready && strcmp(st.reason, "media-jam") == 0 &&
	    (st.flags & PSTATE_F_MEDIA_EMPTY) &&
	    (st.flags & PSTATE_F_TONER_LOW),
	    "several: every flag, the worst (jam) named");

	eval(printer(3, 1, weird, 2, a4), PSTATE_SRC_PRINTER, &st);
	T_CHECK(!st.ready && strcmp(st.reason, "stopped") == 0,
	    "unknown -error reason: not ready (safe side)");
	eval(printer(3, 1, weirdw, 2, a4), PSTATE_SRC_PRINTER, &st);
	T_CHECK(st.ready && strcmp(st.reason, "warning") == 0,
	    "unknown -warning reason: ready, warning");

	eval(printer(3, 1, none, 1, letter), PSTATE_SRC_PRINTER, &st);
	T_CHECK(!st.ready && strcmp(st.reason, "media-missing") == 0,
	    "only Letter loaded: media-missing");

	eval(printer(3, 0, NULL, 0, NULL), PSTATE_SRC_PRINTER, &st);
	T_CHECK(st.ready && st.reasons[0] == '\0',
	    "no reasons, no media-ready attribute: ready");

	r = printer(3, 1, none, 2, a4);
	add_supply(r, sup, 4);
	eval(r, PSTATE_SRC_PRINTER, &st);
	T_CHECK(st.toner_percent == 5,
	    "printer-supply: toner level 5 % (waste tank ignored)");
}

static void
test_queue(void)
{
	static const char *const none[] = { "none" };
	static const char *const paused[] = { "paused" };
	static const char *const off[] = { "offline-report" };
	static const char *const mtypes[] = { "toner", "waste-toner" };
	static const char *const a4[] = { A4 };
	static const char *const empty_r[] = { "media-empty-report" };
	static const char *const stale[] = { "media-jam-report" };
	struct printer_state st;
	ipp_t *r;
	int levels[2] = { 40, 90 };

	r = printer(3, 1, none, 0, NULL);
	ippAddBoolean(r, IPP_TAG_PRINTER, "printer-is-accepting-jobs", 0);
	eval(r, PSTATE_SRC_QUEUE, &st);
	T_CHECK(!st.ready && strcmp(st.reason, "queue-stopped") == 0,
	    "queue rejecting jobs: queue-stopped");

	eval(printer(5, 1, paused, 0, NULL), PSTATE_SRC_QUEUE, &st);
	T_CHECK(!st.ready && strcmp(st.reason, "queue-stopped") == 0 &&
	    st.printer_state == 5, "queue stopped (paused)");

	eval(printer(3, 1, off, 0, NULL), PSTATE_SRC_QUEUE, &st);
	T_CHECK(!st.ready && strcmp(st.reason, "offline") == 0,
	    "offline-report from the CUPS backend: offline");

	r = printer(3, 1, none, 0, NULL);
	ippAddIntegers(r, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "marker-levels", 2,
	    levels);
	ippAddStrings(r, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "marker-types", 2,
	    NULL, mtypes);
	eval(r, PSTATE_SRC_QUEUE, &st);
	T_CHECK(st.ready && st.toner_percent == 40,
	    "marker-levels/types: toner 40 %");

	/* printer then queue, merged: the printer's state wins */
	printer_state_init(&st);
	r = printer(3, 1, empty_r, 1, a4);
	printer_state_parse(r, PSTATE_SRC_PRINTER, A4, &st);
	ippDelete(r);
	r = printer(4, 1, none, 0, NULL);
	printer_state_parse(r, PSTATE_SRC_QUEUE_OWN, A4, &st);
	ippDelete(r);
	printer_state_finish(&st);
	T_CHECK(!st.ready && st.printer_state == 3 &&
	    strcmp(st.reason, "media-empty") == 0,
	    "printer paper out + queue processing: media-empty, printer's "
	    "state");

	/* a stale jam on the queue, the printer fine: ready */
	printer_state_init(&st);
	r = printer(3, 1, none, 1, a4);
	printer_state_parse(r, PSTATE_SRC_PRINTER, A4, &st);
	ippDelete(r);
	r = printer(3, 1, stale, 0, NULL);
	printer_state_parse(r, PSTATE_SRC_QUEUE_OWN, A4, &st);
	ippDelete(r);
	printer_state_finish(&st);
	T_CHECK(st.ready && strcmp(st.reason, "ok") == 0,
	    "queue's stale media-jam ignored when the printer answers");
	r = printer(3, 1, stale, 0, NULL);
	eval(r, PSTATE_SRC_QUEUE, &st);
	T_CHECK(!st.ready && strcmp(st.reason, "media-jam") == 0,
	    "... but counted when the queue is the only view");
	r = printer(3, 1, paused, 0, NULL);
	eval(r, PSTATE_SRC_QUEUE_OWN, &st);
	T_CHECK(!st.ready && strcmp(st.reason, "queue-stopped") == 0,
	    "queue's own 'paused' always counts");
}

static void
test_messages(void)
{
	struct printer_state a, b;

	T_CHECK(strcmp(printer_state_message("media-empty", "ja"),
	    "用紙切れです。A4用紙を補充してください。") == 0,
	    "ja message for media-empty");
	T_CHECK(strstr(printer_state_message("media-empty", "en"),
	    "Out of paper") != NULL, "en message for media-empty");
	T_CHECK(strstr(printer_state_message("bogus", "en"), "unknown") !=
	    NULL, "unknown code: a message all the same");
	T_CHECK(strstr(printer_state_message("ok", "ja"), "印刷") != NULL,
	    "ok in ja");
	printer_state_init(&a);
	printer_state_finish(&a);
	b = a;
	T_CHECK(!printer_state_changed(&a, &b), "same state: no change");
	b.flags |= PSTATE_F_TONER_LOW;
	printer_state_finish(&b);
	T_CHECK(printer_state_changed(&a, &b), "toner-low: a change");
}

static void
test_jobs(void)
{
	static const char *const jr[] = { "job-completed-successfully" };
	static const char *const pr[] = { "media-jam-error", "none" };
	struct spool_job j[3];
	ipp_attribute_t *a;
	ipp_t *r;
	int n = 0;

	r = ippNew();
	ippAddString(r, IPP_TAG_OPERATION, IPP_TAG_CHARSET,
	    "attributes-charset", NULL, "utf-8");
	ippAddInteger(r, IPP_TAG_JOB, IPP_TAG_INTEGER, "job-id", 7);
	ippAddString(r, IPP_TAG_JOB, IPP_TAG_NAME, "job-name", NULL, "abc");
	ippAddInteger(r, IPP_TAG_JOB, IPP_TAG_ENUM, "job-state", 9);
	ippAddStrings(r, IPP_TAG_JOB, IPP_TAG_KEYWORD, "job-state-reasons", 1,
	    NULL, jr);
	ippAddInteger(r, IPP_TAG_JOB, IPP_TAG_INTEGER,
	    "job-impressions-completed", 4);
	ippAddSeparator(r);
	ippAddInteger(r, IPP_TAG_JOB, IPP_TAG_INTEGER, "job-id", 8);
	ippAddInteger(r, IPP_TAG_JOB, IPP_TAG_ENUM, "job-state", 8);
	ippAddStrings(r, IPP_TAG_JOB, IPP_TAG_KEYWORD,
	    "job-printer-state-reasons", 2, NULL, pr);
	ippAddString(r, IPP_TAG_JOB, IPP_TAG_TEXT, "job-name", NULL, "x");
	a = ippFirstAttribute(r);
	while (a != NULL && n < 3)
		a = spool_job_parse(r, a, &j[n++]);
	ippDelete(r);
	T_CHECK(n == 2, "two job groups");
	T_CHECK(j[0].id == 7 && j[0].state == SPOOL_JOB_COMPLETED &&
	    strcmp(j[0].name, "abc") == 0 && j[0].impressions == 4 &&
	    j[0].sheets == -1 &&
	    strcmp(j[0].reasons, "job-completed-successfully") == 0,
	    "first job: id, state, name, pages, reasons");
	T_CHECK(j[1].id == 8 && j[1].state == SPOOL_JOB_ABORTED &&
	    j[1].impressions == -1 && strcmp(j[1].name, "x") == 0 &&
	    strcmp(j[1].reasons, "media-jam-error") == 0,
	    "second job: the printer's reasons, \"none\" dropped");
	T_CHECK(spool_reasons_have("a,media-jam-error,b", "media-jam") &&
	    !spool_reasons_have("media-jammed", "media-jam") &&
	    !spool_reasons_have("", "x"), "spool_reasons_have");
	j[2] = j[0];
	T_CHECK(spool_job_trouble(&j[2]) == NULL,
	    "completed, no printer trouble: printed");
	(void)snprintf(j[2].reasons, sizeof(j[2].reasons),
	    "processing-to-stop-point,media-jam-report");
	T_CHECK(spool_job_trouble(&j[2]) != NULL &&
	    strcmp(spool_job_trouble(&j[2]), "media-jam") == 0,
	    "completed with media-jam-report: trouble media-jam");
	j[2].state = SPOOL_JOB_CANCELED;
	T_CHECK(spool_job_trouble(&j[2]) == NULL,
	    "trouble is only asked of completed jobs");
	T_CHECK(spool_job_state_final(7) && spool_job_state_final(9) &&
	    !spool_job_state_final(5) && !spool_job_state_final(0),
	    "final states");
}

int
main(void)
{
	test_printer();
	test_queue();
	test_messages();
	test_jobs();
	return t_done();
}
