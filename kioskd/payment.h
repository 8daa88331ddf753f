/*
 * The payment device interface (DESIGN.md step 5): a table of operations
 * that the core calls from a worker (a real device blocks), behind which
 * sits a coin box, a bill acceptor or an electronic-money reader.
 *
 * Every operation names the money by a ref the caller chooses, unique per
 * transaction (the journal's pay_ref), and every device honours:
 *   - take(yen, ref) twice with the same ref takes once (the second answers
 *     PAYMENT_OK without taking again; with another amount it is refused);
 *   - refund(yen, ref) without a take of that ref is refused, with another
 *     amount than the take is refused, twice refunds once;
 *   - query(ref) says what the device holds for that ref, so that a take
 *     whose answer was lost (device error, crash) can be settled.
 * A device error leaves the state unknown: query before deciding.
 */
#ifndef KIOSK_PAYMENT_H
#define KIOSK_PAYMENT_H

#include <stddef.h>
#include <stdint.h>

#define PAYMENT_REF_MIN		16
#define PAYMENT_REF_MAX		64	/* [A-Za-z0-9_-] */
#define PAYMENT_REASON_MAX	63
#define PAYMENT_YEN_MAX		1000000

enum payment_rc {
	PAYMENT_OK = 0,		/* taken / refunded (now or before) / answered */
	PAYMENT_DECLINED,	/* take: not enough money was inserted */
	PAYMENT_REFUSED,	/* refund without that take, another amount */
	PAYMENT_DEVICE_ERROR,	/* the device failed: the state is unknown */
	PAYMENT_OUT_OF_SERVICE,	/* jammed or closed: nothing was done */
	PAYMENT_INVALID		/* a malformed argument: nothing was done */
};

/* What the device holds for a ref. */
enum payment_state {
	PAYMENT_NONE = 0,	/* never taken */
	PAYMENT_TAKEN,
	PAYMENT_REFUNDED	/* taken, then refunded */
};

struct payment_status {
	int	ready;				/* can take money now */
	char	reason[PAYMENT_REASON_MAX + 1];	/* why not ("jammed") */
};

struct payment;

struct payment_ops {
	const char	*name;
	enum payment_rc	(*take)(struct payment *, int64_t yen,
			    const char *ref);
	enum payment_rc	(*refund)(struct payment *, int64_t yen,
			    const char *ref);
	enum payment_rc	(*query)(struct payment *, const char *ref,
			    enum payment_state *, int64_t *yen);
	void		(*status)(struct payment *, struct payment_status *);
	/* Why the last operation did not answer PAYMENT_OK. */
	const char	*(*errmsg)(const struct payment *);
	void		(*close)(struct payment *);
};

/* Every device starts with this; p->ops->take(p, ...) and so on. */
struct payment {
	const struct payment_ops *ops;
};

const char	*payment_rc_name(enum payment_rc);
const char	*payment_state_name(enum payment_state);
/* 1 when ref is 16..64 of [A-Za-z0-9_-]. */
int		 payment_ref_ok(const char *ref);

/*
 * The coin box simulator (payment_coinbox.c).  opts is a comma-separated
 * list: "ledger=PATH" (required: the device's own SQLite ledger), and
 * faults "declined[=N]", "take_error[=N]" (nothing taken), "take_lost[=N]"
 * (taken, the answer lost), "refund_error[=N]", "refund_lost[=N]",
 * "jammed", "offline" (N: how many operations it hits, default 1;
 * jammed and offline last until cleared).  Faults written into the
 * ledger by `kiosk-coinbox --inject` apply too, to a running daemon.
 */
struct payment	*payment_coinbox_open(const char *opts, char *err,
		    size_t errlen);

/* The ledger's totals, for tests and kiosk-coinbox. */
struct coinbox_summary {
	int64_t	taken_yen, refunded_yen, net_yen;
	int64_t	takes, refunds;
};
int		 coinbox_summary(struct payment *, struct coinbox_summary *);
/* Add a fault to the ledger ("declined=2", "jammed"); "clear": remove all. */
int		 coinbox_inject(struct payment *, const char *fault);
/* One line per ledger entry, oldest first, through cb. */
int		 coinbox_list(struct payment *,
		    void (*cb)(void *, int64_t seq, int64_t at, const char *op,
		    const char *ref, int64_t yen), void *arg);

#endif
