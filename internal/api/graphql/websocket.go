package graphql

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/bluepoint/bluepoint/internal/api"
)

// closeUnauthorized is the close code graphql-transport-ws gives a
// connection_init that is refused.
const closeUnauthorized = 4403

type socketKey struct{}

// socket is the websocket a subscription request was upgraded to, kept in
// the request's context so that the init hook can close it.
type socket struct {
	mu   sync.Mutex
	conn transport.WebsocketConn
}

func withSocket(ctx context.Context) context.Context {
	return context.WithValue(ctx, socketKey{}, &socket{})
}

func socketFrom(ctx context.Context) *socket {
	s, _ := ctx.Value(socketKey{}).(*socket)
	return s
}

// close ends the connection with code and reason.
func (s *socket) close(code int, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		_ = s.conn.WriteClose(code, reason)
		_ = s.conn.Close()
	}
}

// closingWebsocket is gqlgen's default websocket implementation that also
// records each connection in its request's context. Some gqlgen releases
// leave a connection open after its init hook refused it, waiting for
// messages that will never be served; websocketInit closes it itself.
type closingWebsocket struct {
	transport.CoderWebsocketImplementation
}

func (c closingWebsocket) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := c.CoderWebsocketImplementation.Accept(w, r, o)
	if err == nil {
		if s := socketFrom(r.Context()); s != nil {
			s.mu.Lock()
			s.conn = conn
			s.mu.Unlock()
		}
	}
	return conn, err
}

// websocketInit authenticates a websocket from its connection_init
// payload, {"authorization": "Bearer <token>"} or {"token": "<token>"}:
// browsers cannot set headers on a websocket. Without a token the
// connection keeps the caller of the upgrade request (anonymous, or the
// bearer of its Authorization header).
func (s *server) websocketInit(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	token, err := tokenOf(p)
	if err == nil && token != "" {
		actor, verr := s.deps.Verifier.Verify(token)
		if verr == nil {
			return api.WithActor(ctx, actor), nil, nil
		}
		err = errInvalidToken
	}
	if err == nil {
		return ctx, nil, nil
	}
	// gqlgen reads the close code and reason from the context it gets back,
	// so the context is returned even with the error.
	ctx = transport.WithWebsocketCloseCode(ctx, closeUnauthorized)
	ctx = transport.AppendCloseReason(ctx, "unauthorized")
	if sock := socketFrom(ctx); sock != nil {
		sock.close(closeUnauthorized, "unauthorized")
	}
	return ctx, nil, err
}

var (
	errInvalidToken = errors.New("the access token is invalid or expired: refresh it or sign in again")
	errBadInit      = errors.New(`connection_init must carry {"authorization": "Bearer <access token>"} or {"token": "<access token>"}`)
)

func tokenOf(p transport.InitPayload) (string, error) {
	if h := p.Authorization(); h != "" {
		scheme, raw, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
			return "", errBadInit
		}
		return strings.TrimSpace(raw), nil
	}
	return strings.TrimSpace(p.GetString("token")), nil
}

// aroundOperation gives each operation on a websocket a trace id of its
// own: they all share one upgrade request, whose trace would otherwise
// collect every command the connection ever sent.
func (s *server) aroundOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if socketFrom(ctx) != nil {
		ctx = api.WithTraceID(ctx, api.NewTraceID())
	}
	return next(ctx)
}
