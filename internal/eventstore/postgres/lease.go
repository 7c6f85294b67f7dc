package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bluepoint/bluepoint/internal/eventstore"
)

// leaseClass namespaces lease locks apart from the per-stream append locks.
const leaseClass = 0x42504c53

// leaseCheck is how often a held lease checks that its connection lives.
const leaseCheck = time.Second

// TryLease implements eventstore.Store with a session advisory lock held on
// a connection of its own: if the holder's process or connection dies,
// Postgres frees the lock and another process takes the lease.
func (s *Store) TryLease(ctx context.Context, name string) (eventstore.Lease, bool, error) {
	if name == "" || len(name) > 64 {
		return nil, false, &eventstore.ValidationError{Field: "name", Reason: "must be 1 to 64 bytes"}
	}
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, false, fmt.Errorf("postgres: lease %s: connect: %w", name, err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, hashtext($2))`, leaseClass, s.cfg.Schema+"."+name).Scan(&ok); err != nil {
		conn.Close(context.Background())
		return nil, false, fmt.Errorf("postgres: lease %s: %w", name, err)
	}
	if !ok {
		conn.Close(context.Background())
		return nil, false, nil
	}
	l := &pgLease{conn: conn, key: s.cfg.Schema + "." + name, lost: make(chan struct{}), stop: make(chan struct{})}
	l.wg.Add(1)
	go l.watch()
	return l, true, nil
}

type pgLease struct {
	conn *pgx.Conn
	key  string
	lost chan struct{}
	stop chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

// watch pings the lease's connection; a failed ping means the lock may be
// gone, so the holder must stop.
func (l *pgLease) watch() {
	defer l.wg.Done()
	t := time.NewTicker(leaseCheck)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), leaseCheck)
			err := l.conn.Ping(ctx)
			cancel()
			if err != nil {
				close(l.lost)
				return
			}
		}
	}
}

func (l *pgLease) Lost() <-chan struct{} { return l.lost }

// Release unlocks and closes the lease's connection. Closing alone would
// free the lock too, but only once the server's backend has exited, after
// Release returned: another process could then fail to take a lease that
// was already given up.
func (l *pgLease) Release() error {
	var err error
	l.once.Do(func() {
		close(l.stop)
		l.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		select {
		case <-l.lost: // the connection is gone, and the lock with it
		default:
			_, err = l.conn.Exec(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, leaseClass, l.key)
		}
		if cerr := l.conn.Close(ctx); err == nil {
			err = cerr
		}
	})
	return err
}
