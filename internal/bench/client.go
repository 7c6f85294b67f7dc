package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// login is an account's credentials.
type login struct {
	ID       string
	Email    string
	Password string
}

// target is a server the bench drives over HTTP.
type target struct {
	url     string
	staff   login
	client  *http.Client
	signIns atomic.Int64
	// streamPrefix names the server's streams on a shared NATS server.
	streamPrefix string
}

// newHTTPClient keeps enough idle connections for every client: a new TCP
// connection per request would measure the kernel, not the server.
func newHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 256, 256
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

// statusError is an answer other than the one expected.
type statusError struct {
	method, path string
	status       int
	body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.method, e.path, e.status, e.body)
}

// call sends a JSON request (every POST with a fresh Idempotency-Key, as a
// well-behaved client does) and decodes a 2xx answer into out.
func (t *target) call(ctx context.Context, method, path, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.url+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method == http.MethodPost {
		req.Header.Set("Idempotency-Key", randomHex(12))
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		if len(b) > 300 {
			b = b[:300]
		}
		return &statusError{method: method, path: path, status: resp.StatusCode, body: string(b)}
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// signIn returns an access token. The server limits sign-ins per client
// address (30 at once, then one every 2 s), as it should; the bench's
// simulated users would come from many addresses, so on a loopback target
// each sign-in leaves from its own loopback source address (all of
// 127.0.0.0/8 is local). A refusal is still retried after Retry-After.
func (t *target) signIn(ctx context.Context, l login) (string, error) {
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	from := t
	if u, err := url.Parse(t.url); err == nil && net.ParseIP(u.Hostname()).IsLoopback() {
		n := t.signIns.Add(1)
		local := &net.TCPAddr{IP: net.IPv4(127, 0, byte(1+n/250), byte(2+n%250))}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DialContext = (&net.Dialer{LocalAddr: local, Timeout: 10 * time.Second}).DialContext
		defer tr.CloseIdleConnections()
		from = &target{url: t.url, client: &http.Client{Transport: tr, Timeout: time.Minute}}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		err := from.call(ctx, http.MethodPost, "/v1/auth/token", "", map[string]string{"email": l.Email, "password": l.Password}, &tok)
		var se *statusError
		if !errors.As(err, &se) || se.status != http.StatusTooManyRequests || time.Now().After(deadline) {
			return tok.AccessToken, err
		}
		time.Sleep(time.Second)
	}
}

// signUp opens an account and returns its login.
func (t *target) signUp(ctx context.Context, kind string, profile map[string]any) (login, error) {
	l := login{Email: kind + "-" + randomHex(6) + "@example.org", Password: "bench password " + randomHex(6)}
	var ref struct {
		ID string `json:"id"`
	}
	err := t.call(ctx, http.MethodPost, "/v1/accounts", "", map[string]any{"kind": kind, "name": "Bench " + kind,
		"email": l.Email, "password": l.Password, "profile": profile}, &ref)
	l.ID = ref.ID
	return l, err
}

// world is what the command mix runs on: one set of accounts per client,
// so that clients do not contend on each other's streams (the point is the
// pipeline's cost, not a hot account).
type world struct {
	t          *target
	staffToken string
	clients    []*client
	probe      *client
	mix        []string
}

// client is one simulated user session's accounts and tokens.
type client struct {
	civilian, officer  login
	civToken, offToken string
	charityID          string
	merchantID, sku    string
	next               int // position in the mix, kept across rounds
}

// prepare signs in as staff, lifts the interaction rule's daily cap and
// opens n+1 sets of accounts (one for the lag probe). Sign-ups and sign-ins
// hash passwords, so this takes a moment.
func (r *runner) prepare(ctx context.Context, t *target, n int) (*world, error) {
	staff, err := t.signIn(ctx, t.staff)
	if err != nil {
		return nil, fmt.Errorf("staff sign-in: %w", err)
	}
	if err := t.call(ctx, http.MethodPut, "/v1/rules/interaction", staff,
		map[string]any{"points": map[string]int{"civilian": 10, "officer": 5}}, nil); err != nil {
		return nil, fmt.Errorf("interaction rule: %w", err)
	}
	w := &world{t: t, staffToken: staff, clients: make([]*client, n), mix: r.cfg.Mix.sequence()}
	r.logf("opening accounts for %d clients", n)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, 4)
	)
	all := make([]*client, n+1)
	for i := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := w.newClient(ctx, i)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			all[i] = c
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, fmt.Errorf("open accounts (%d failed): %w", len(errs), errs[0])
	}
	copy(w.clients, all[:n])
	w.probe = all[n]
	return w, nil
}

// newClient opens a civilian, a verified officer and charity, and a
// merchant with a product of ample stock priced at one point.
func (w *world) newClient(ctx context.Context, i int) (*client, error) {
	t := w.t
	c := &client{sku: fmt.Sprintf("BENCH-%d", i)}
	var err error
	if c.civilian, err = t.signUp(ctx, "civilian", nil); err != nil {
		return nil, err
	}
	if c.officer, err = t.signUp(ctx, "officer", map[string]any{"badge_number": fmt.Sprintf("B-%d", i), "department": "Bench"}); err != nil {
		return nil, err
	}
	charity, err := t.signUp(ctx, "charity", map[string]any{"registration_number": fmt.Sprintf("RC-%d", i)})
	if err != nil {
		return nil, err
	}
	merchant, err := t.signUp(ctx, "merchant", map[string]any{"business_name": "Bench shop", "address": "1 Main St"})
	if err != nil {
		return nil, err
	}
	for _, id := range []string{c.officer.ID, charity.ID} {
		if err := t.call(ctx, http.MethodPost, "/v1/accounts/"+id+"/verify", w.staffToken, nil, nil); err != nil {
			return nil, err
		}
	}
	c.charityID, c.merchantID = charity.ID, merchant.ID
	mtok, err := t.signIn(ctx, merchant)
	if err != nil {
		return nil, err
	}
	if err := t.call(ctx, http.MethodPost, "/v1/merchants/"+merchant.ID+"/products", mtok,
		map[string]any{"sku": c.sku, "name": "Bench mug", "price_points": 1, "stock": 1_000_000}, nil); err != nil {
		return nil, err
	}
	if c.civToken, err = t.signIn(ctx, c.civilian); err != nil {
		return nil, err
	}
	if c.offToken, err = t.signIn(ctx, c.officer); err != nil {
		return nil, err
	}
	return c, nil
}

// Command kinds of the mix.
const (
	kindInteraction = "interaction"
	kindDonation    = "donation"
	kindRedemption  = "redemption"
	kindSignUp      = "sign-up"
)

// sequence spreads the mix over 100 slots by smooth weighted round robin,
// so every stretch of a round has about the mix's proportions, and the
// first command is an interaction: it earns the points donations and
// redemptions spend.
func (m Mix) sequence() []string {
	kinds := []struct {
		name   string
		weight int
	}{{kindInteraction, m.Interactions}, {kindDonation, m.Donations}, {kindRedemption, m.Redemptions}, {kindSignUp, m.SignUps}}
	current := make([]int, len(kinds))
	seq := make([]string, 0, 100)
	for range 100 {
		best := -1
		for i, k := range kinds {
			current[i] += k.weight
			if k.weight > 0 && (best < 0 || current[i] > current[best]) {
				best = i
			}
		}
		current[best] -= 100
		seq = append(seq, kinds[best].name)
	}
	return seq
}

// do runs c's next command of the mix and returns its kind and the time
// the command itself took. An interaction first fetches the civilian's
// encounter token (a signature, no write), which is not timed.
func (w *world) do(ctx context.Context, c *client) (string, time.Duration, error) {
	kind := w.mix[c.next%len(w.mix)]
	c.next++
	return w.run(ctx, c, kind)
}

// run runs one command of kind with c's accounts.
func (w *world) run(ctx context.Context, c *client, kind string) (string, time.Duration, error) {
	t := w.t
	var (
		began time.Time
		err   error
	)
	switch kind {
	case kindInteraction:
		var enc struct {
			Token string `json:"token"`
		}
		if err := t.call(ctx, http.MethodPost, "/v1/encounters", c.civToken, nil, &enc); err != nil {
			return kind, 0, err
		}
		began = time.Now()
		err = t.call(ctx, http.MethodPost, "/v1/interactions", c.offToken, map[string]string{"token": enc.Token}, nil)
	case kindDonation:
		began = time.Now()
		err = t.call(ctx, http.MethodPost, "/v1/donations", c.civToken, map[string]any{"to": c.charityID, "points": 1}, nil)
	case kindRedemption:
		began = time.Now()
		err = t.call(ctx, http.MethodPost, "/v1/redemptions", c.civToken,
			map[string]any{"merchant_id": c.merchantID, "sku": c.sku, "quantity": 1}, nil)
	case kindSignUp:
		began = time.Now()
		_, err = t.signUp(ctx, "civilian", nil)
	}
	return kind, time.Since(began), err
}
