package postgres_test

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/postgres"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// cutProxy forwards connections to a server. Once armed, the first
// connection that sends bytes holding the marker has those bytes (and any
// after them) delivered, but never hears back: its answers are dropped and
// both sides are closed a moment later. The server does everything it was
// asked; the client only learns that the connection broke.
type cutProxy struct {
	ln     net.Listener
	target string
	marker []byte
	armed  atomic.Bool
	cut    atomic.Int32
	wg     sync.WaitGroup
}

func newCutProxy(t *testing.T, target string, marker []byte) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, marker: marker}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		ln.Close()
		p.wg.Wait()
	})
	return p
}

func (p *cutProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		var doomed atomic.Bool
		closeBoth := func() {
			client.Close()
			server.Close()
		}
		p.wg.Go(func() { // client to server
			defer closeBoth()
			buf := make([]byte, 64<<10)
			for {
				n, err := client.Read(buf)
				if n > 0 {
					if !doomed.Load() && bytes.Contains(buf[:n], p.marker) && p.armed.CompareAndSwap(true, false) {
						doomed.Store(true)
						p.cut.Add(1)
						time.AfterFunc(500*time.Millisecond, closeBoth)
					}
					if _, werr := server.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		})
		p.wg.Go(func() { // server to client
			defer closeBoth()
			buf := make([]byte, 64<<10)
			for {
				n, err := server.Read(buf)
				if n > 0 && !doomed.Load() {
					if _, werr := client.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		})
	}
}

// A group whose connection breaks after its writes and commit were sent
// cannot know whether they committed. Here they did: running the appends
// again would apply them twice (they append with Any, which checks no
// version), so each append must fail as "outcome unknown" and none may be
// run again.
func TestGroupCommitWithUnknownOutcome(t *testing.T) {
	direct := testenv.Postgres(t)
	schema := storetest.NewSchema(t, direct)
	ctx := context.Background()
	if err := postgres.Migrate(ctx, postgres.MigrateParams{URL: direct, Schema: schema}); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	marker := "cut-" + uuid.NewString()
	proxy := newCutProxy(t, u.Host, []byte(marker))
	u.Host = proxy.ln.Addr().String()

	var calls atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	s, err := postgres.Open(ctx, postgres.Config{URL: u.String(), Schema: schema, Committers: 1,
		BeforeCommit: func(context.Context) {
			switch calls.Add(1) {
			case 1: // the append that holds the committer while the group queues
				entered <- struct{}{}
				<-release
			case 2: // the group: its reads are done, its writes go next
				proxy.armed.Store(true)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	blocker := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, one(eventstore.StreamID("blocker", uuid.NewString()), eventstore.NoStream))
		blocker <- err
	}()
	<-entered
	streams := make([]string, 3)
	errs := make([]error, len(streams))
	var wg sync.WaitGroup
	for i := range streams {
		streams[i] = eventstore.StreamID("cut", marker+"-"+string(rune('a'+i)))
		wg.Go(func() { _, errs[i] = s.Append(ctx, one(streams[i], eventstore.Any)) })
	}
	deadline := time.Now().Add(15 * time.Second)
	for postgres.Waiting(s) < int64(len(streams)) {
		if time.Now().After(deadline) {
			t.Fatalf("%d appends waiting for the committer, want %d", postgres.Waiting(s), len(streams))
		}
		time.Sleep(time.Millisecond) // polling with a deadline
	}
	close(release)
	if err := <-blocker; err != nil {
		t.Fatalf("the held append: %v", err)
	}
	wg.Wait()

	if proxy.cut.Load() != 1 {
		t.Fatalf("the proxy cut %d connections, want the group's", proxy.cut.Load())
	}
	for i, err := range errs {
		if !postgres.IsCommitUnknown(err) {
			t.Errorf("append %d: %v, want the outcome unknown", i, err)
		}
	}
	if n := postgres.Fallbacks(s); n != 0 {
		t.Errorf("%d groups handed their appends back to run alone", n)
	}
	// The commit reached the server: each stream holds its event once.
	for _, id := range streams {
		events, err := s.ReadStream(ctx, &eventstore.ReadStreamParams{StreamID: id})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 {
			t.Errorf("%s holds %d events, want the one appended", id, len(events))
		}
	}
}
