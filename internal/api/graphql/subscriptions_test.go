package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// wsMessage is a message of either websocket protocol.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
	ctx  context.Context
}

// dial opens a websocket to the handler, speaking protocol, and sends
// connection_init with payload.
func (e *env) dial(t *testing.T, protocol string, payload map[string]any) *wsClient {
	t.Helper()
	ctx := ctxT(t)
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.http.URL, "http")+"/graphql",
		&websocket.DialOptions{Subprotocols: []string{protocol}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	c := &wsClient{t: t, conn: conn, ctx: ctx}
	c.send(wsMessage{Type: "connection_init", Payload: mustJSON(t, payload)})
	return c
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (c *wsClient) send(m wsMessage) {
	c.t.Helper()
	if err := wsjson.Write(c.ctx, c.conn, m); err != nil {
		c.t.Fatal(err)
	}
}

// next reads the next message that is not a keep-alive.
func (c *wsClient) next() (wsMessage, error) {
	for {
		ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		var m wsMessage
		err := wsjson.Read(ctx, c.conn, &m)
		cancel()
		if err != nil || (m.Type != "ka" && m.Type != "ping" && m.Type != "pong") {
			return m, err
		}
	}
}

// background reads the messages that follow on a goroutine of its own,
// so that the test can wait for one with a deadline while it acts.
func (c *wsClient) background() <-chan wsMessage {
	out := make(chan wsMessage, 16)
	go func() {
		defer close(out)
		for {
			m, err := c.next()
			if err != nil {
				return
			}
			out <- m
		}
	}()
	return out
}

func (c *wsClient) expect(typ string) wsMessage {
	c.t.Helper()
	m, err := c.next()
	if err != nil {
		c.t.Fatalf("waiting for %s: %v", typ, err)
	}
	if m.Type != typ {
		c.t.Fatalf("got %s %s, want %s", m.Type, m.Payload, typ)
	}
	return m
}

func (c *wsClient) subscribe(protocol, id, query string, vars map[string]any) {
	typ := "subscribe"
	if protocol == "graphql-ws" {
		typ = "start"
	}
	c.send(wsMessage{ID: id, Type: typ, Payload: mustJSON(c.t, map[string]any{"query": query, "variables": vars})})
}

// TestTraceStepsSubscription follows a trace over graphql-transport-ws
// while a command runs under it and its events reach the read models.
func TestTraceStepsSubscription(t *testing.T) {
	e := newEnv(t)
	const trace = "subscribed-trace-0001"
	c := e.dial(t, "graphql-transport-ws", map[string]any{"authorization": "Bearer " + e.staff})
	c.expect("connection_ack")
	c.subscribe("graphql-transport-ws", "1", `subscription($id: ID!) { traceSteps(traceId: $id) { step status } }`,
		map[string]any{"id": trace})

	if res := e.post(t, request{traceID: trace, query: `mutation { openAccount(input: {kind: CIVILIAN, name: "Cara Civilian",
		email: "cara@example.org", password: "s3cret-enough"}) { id } }`}); len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	e.sync(t)

	want := map[string]bool{"command.OpenAccount:applied": false, "projection.users:applied": false, "projection.eventlog:applied": false}
	for missing := len(want); missing > 0; {
		m := c.expect("next")
		var step struct {
			Data struct{ TraceSteps TraceStep } `json:"data"`
		}
		if err := json.Unmarshal(m.Payload, &step); err != nil || m.ID != "1" {
			t.Fatalf("%s %s: %v", m.ID, m.Payload, err)
		}
		key := step.Data.TraceSteps.Step + ":" + step.Data.TraceSteps.Status
		if done, ok := want[key]; ok && !done {
			want[key] = true
			missing--
		}
	}
	c.send(wsMessage{ID: "1", Type: "complete"})
	c.conn.Close(websocket.StatusNormalClosure, "")
}

// TestEventsSubscription streams new log entries over the older graphql-ws
// protocol to an account following its own events.
func TestEventsSubscription(t *testing.T) {
	e := newEnv(t)
	civ := e.signUp(t, "civ", "CIVILIAN", "Cara Civilian", nil)
	off := e.signUp(t, "off", "OFFICER", "Otto Officer", map[string]any{"badgeNumber": "B-1", "department": "Central"})
	e.sync(t)

	c := e.dial(t, "graphql-ws", map[string]any{"token": "civ"})
	c.expect("connection_ack")
	// Another account's events are not the caller's to follow.
	c.subscribe("graphql-ws", "theirs", `subscription($c: ID!) { events(filter: {customerId: $c}) { id } }`, map[string]any{"c": off})
	if m := c.expect("data"); m.ID != "theirs" || !strings.Contains(string(m.Payload), `"code":"forbidden"`) {
		t.Fatalf("%s %s", m.ID, m.Payload)
	}
	c.expect("complete")
	c.subscribe("graphql-ws", "mine", `subscription($c: ID!) { events(filter: {customerId: $c, types: ["InteractionRecorded"]}) {
		type customerId description customer { name } } }`, map[string]any{"c": civ})
	// The history is not news: only what comes after the subscription
	// starts is, and it starts on its own goroutine. So interact until an
	// entry arrives (the rule allows three a day per pair).
	messages := c.background()
	var m wsMessage
	for round := 0; m.Type == ""; round++ {
		if round == 3 {
			t.Fatal("no event arrived")
		}
		interact(t, e, "civ", "off")
		e.sync(t)
		select {
		case m = <-messages:
		case <-time.After(2 * time.Second):
		}
	}
	if m.Type != "data" {
		t.Fatalf("got %s %s", m.Type, m.Payload)
	}
	var got struct {
		Data struct {
			Events struct {
				Type, CustomerID, Description string
				Customer                      struct{ Name string }
			}
		} `json:"data"`
	}
	if err := json.Unmarshal(m.Payload, &got); err != nil || m.ID != "mine" {
		t.Fatalf("%s: %v", m.Payload, err)
	}
	ev := got.Data.Events
	if ev.Type != "InteractionRecorded" || ev.CustomerID != civ || ev.Customer.Name != "Cara Civilian" ||
		!strings.Contains(ev.Description, "civilian Cara Civilian met officer "+off) {
		t.Fatalf("event %+v", ev)
	}
	c.send(wsMessage{ID: "mine", Type: "stop"})
	c.conn.Close(websocket.StatusNormalClosure, "")
}

// TestWebsocketRefusesBadToken closes a connection whose init carries a
// token that does not verify.
func TestWebsocketRefusesBadToken(t *testing.T) {
	e := newEnv(t)
	for _, payload := range []map[string]any{{"token": "nope"}, {"authorization": "Basic abc"}} {
		c := e.dial(t, "graphql-transport-ws", payload)
		var err error
		for err == nil {
			_, err = c.next()
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != closeUnauthorized {
			t.Fatalf("%v: closed with %v, want %d", payload, err, closeUnauthorized)
		}
	}
}
