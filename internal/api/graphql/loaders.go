package graphql

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	"github.com/bluepoint/bluepoint/internal/projection"
)

// stats counts the reads the loaders make, so that a test can show that a
// list of n rows costs one batch rather than n queries.
type stats struct {
	accountBatches atomic.Int64
	accountKeys    atomic.Int64
}

// loaders are the batching loaders of one response. They are made anew for
// each response (each event of a subscription too), so what they cache is
// never older than the response.
type loaders struct {
	accounts *dataloadgen.Loader[string, *Account]
}

type loadersKey struct{}

// maxBatch bounds an IN list: far below both dialects' parameter limits.
const maxBatch = 500

func (s *server) newLoaders() *loaders {
	return &loaders{accounts: dataloadgen.NewLoader(s.fetchAccounts,
		dataloadgen.WithWait(time.Millisecond), dataloadgen.WithBatchCapacity(maxBatch))}
}

func (s *server) aroundResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	return next(context.WithValue(ctx, loadersKey{}, s.newLoaders()))
}

// loadersFrom returns the response's loaders; outside a response (which
// only a test does) a fresh set.
func (s *server) loadersFrom(ctx context.Context) *loaders {
	if l, ok := ctx.Value(loadersKey{}).(*loaders); ok {
		return l
	}
	return s.newLoaders()
}

// account loads one account through the response's loader: nil when the
// read model has none.
func (s *server) account(ctx context.Context, id string) (*Account, error) {
	if id == "" {
		return nil, nil
	}
	return s.loadersFrom(ctx).accounts.Load(ctx, id)
}

// accountColumns are read in the order scanAccount expects.
const accountColumns = `id, kind, status, name, email, phone, business_name, department, registration_number,
	household_size, sponsor_charity_id, balance, opened_at, verified_at, closed_at, erased, last_activity_at`

// fetchAccounts reads a batch of accounts from the users read model in one
// query. The read model's own Profile reads one account per query, and
// opens the personal fields at once; here they stay sealed until a field
// resolver decides the viewer may see them.
func (s *server) fetchAccounts(ctx context.Context, ids []string) ([]*Account, []error) {
	s.stats.accountBatches.Add(1)
	s.stats.accountKeys.Add(int64(len(ids)))
	q := `SELECT ` + accountColumns + ` FROM accounts WHERE id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
	db := s.deps.ReadDB
	if db.Dialect == projection.Postgres {
		q = projection.Rebind(q)
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	fail := func(err error) ([]*Account, []error) {
		return nil, []error{fmt.Errorf("load accounts: %w", err)}
	}
	rows, err := db.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	byID := make(map[string]*Account, len(ids))
	for rows.Next() {
		a, err := scanAccount(rows.Scan)
		if err != nil {
			return fail(err)
		}
		byID[a.ID] = a
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	out := make([]*Account, len(ids))
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out, nil
}

func scanAccount(scan func(dest ...any) error) (*Account, error) {
	var (
		a                                                Account
		kind, status, business, department, registration string
		sponsor, opened, verified, closed, touched       string
		household                                        int
	)
	if err := scan(&a.ID, &kind, &status, &a.sealedName, &a.sealedEmail, &a.sealedPhone, &business, &department,
		&registration, &household, &sponsor, &a.balance, &opened, &verified, &closed, &a.Erased, &touched); err != nil {
		return nil, err
	}
	a.Kind, a.Status = enumOf[AccountKind](kind), enumOf[AccountStatus](status)
	a.BusinessName, a.Department, a.RegistrationNumber = opt(business), opt(department), opt(registration)
	a.HouseholdSize, a.SponsorCharityID = opt(household), opt(sponsor)
	var errs []error
	stamp := func(s string) *time.Time {
		if s == "" {
			return nil
		}
		// The read model stores UTC times with nine fractional digits,
		// which RFC 3339 parsing accepts.
		t, err := time.Parse(time.RFC3339Nano, s)
		errs = append(errs, err)
		return &t
	}
	a.OpenedAt = deref(stamp(opened))
	a.VerifiedAt, a.ClosedAt, a.LastActivityAt = stamp(verified), stamp(closed), stamp(touched)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("account %s: stored time: %w", a.ID, err)
	}
	return &a, nil
}

// accounts loads several accounts through the response's loader, in one
// batch with whatever else the response is loading.
func (s *server) accounts(ctx context.Context, ids []string) (map[string]*Account, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	found, err := s.loadersFrom(ctx).accounts.LoadAll(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*Account, len(ids))
	for i, id := range ids {
		out[id] = found[i]
	}
	return out, nil
}

// prefetch puts the accounts a list's rows will ask for into the loader's
// current batch at once, when the selection asks for them. The rows'
// resolvers then find their account already on its way: the list costs
// one query however slowly its row resolvers are scheduled, rather than
// relying on them all asking within the loader's wait.
func (s *server) prefetch(ctx context.Context, ids []string, path ...string) {
	if len(ids) == 0 || !selects(ctx, path...) {
		return
	}
	ids = slices.DeleteFunc(slices.Compact(slices.Sorted(slices.Values(ids))), func(id string) bool { return id == "" })
	_ = s.loadersFrom(ctx).accounts.LoadAllThunk(ctx, ids)
}

// selects reports whether the field being resolved selects path (field
// names below it, through fragments).
func selects(ctx context.Context, path ...string) bool {
	oc := graphql.GetOperationContext(ctx)
	fields := graphql.CollectFieldsCtx(ctx, nil)
	for i, name := range path {
		var below []graphql.CollectedField
		found := false
		for _, f := range fields {
			if f.Name != name {
				continue
			}
			found = true
			if i < len(path)-1 {
				below = append(below, graphql.CollectFields(oc, f.Selections, nil)...)
			}
		}
		if !found {
			return false
		}
		fields = below
	}
	return true
}

// prefetchParties prefetches both parties of transactions.
func (s *server) prefetchParties(ctx context.Context, txs []Transaction, path ...string) {
	from, to := make([]string, len(txs)), make([]string, len(txs))
	for i, t := range txs {
		from[i], to[i] = t.FromID, t.ToID
	}
	s.prefetch(ctx, from, append(path, "from")...)
	s.prefetch(ctx, to, append(slices.Clone(path), "to")...)
}
