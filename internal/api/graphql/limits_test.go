package graphql

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// introspectionQuery is the query GraphiQL sends to learn the schema.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}`

func TestLimits(t *testing.T) {
	e := newEnv(t)
	civ := e.signUp(t, "civ", "CIVILIAN", "Cara Civilian", nil)
	e.sync(t)

	t.Run("a query nested too deep is refused before it runs", func(t *testing.T) {
		deep := `{ me { transactions { items { from { transactions { items { to { transactions { items { from { id } } } } } } } } } } }`
		res := refused(t, e, "civ", codeDepthLimit, deep, nil)
		if string(res.Data) != "null" && len(res.Data) != 0 {
			t.Fatalf("data %s", res.Data)
		}
		// Fragments count as deep as what they spread.
		refused(t, e, "civ", codeDepthLimit, `{ me { ...a } }
			fragment a on Account { transactions(first: 1) { items { from { transactions(first: 1) { items { to { ...b } } } } } } }
			fragment b on Account { transactions(first: 1) { items { from { id } } } }`, nil)
		gql[map[string]any](t, e, "civ", `{ me { transactions(first: 5) { items { from { transactions(first: 5) { items { to { id } } } } } } } }`, nil)
	})

	t.Run("a query too costly is refused before it runs", func(t *testing.T) {
		var q strings.Builder
		q.WriteString("query($id: ID!) {")
		for _, alias := range []string{"a", "b", "c"} {
			q.WriteString(alias + `: transactions(accountId: $id, first: 500) { items { id from { id name } to { id name } } } `)
		}
		q.WriteString("}")
		refused(t, e, "civ", "COMPLEXITY_LIMIT_EXCEEDED", q.String(), map[string]any{"id": civ})
	})

	t.Run("introspection is open to anyone", func(t *testing.T) {
		res := gql[struct {
			Schema struct{ Types []struct{ Name string } } `json:"__schema"`
		}](t, e, "", introspectionQuery, nil)
		if len(res.Schema.Types) < 40 {
			t.Fatalf("%d types", len(res.Schema.Types))
		}
	})

	t.Run("browsers get GraphiQL, clients get GraphQL over GET", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctxT(t), http.MethodGet, e.http.URL+"/graphql", nil)
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Type"), "text/html") ||
			!bytes.Contains(body, []byte("graphiql")) {
			t.Fatalf("status %d, %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		req, _ = http.NewRequestWithContext(ctxT(t), http.MethodGet, e.http.URL+"/graphql?query="+url.QueryEscape(`{ me { id } }`), nil)
		req.Header.Set("Authorization", "Bearer civ")
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if !bytes.Contains(body, []byte(civ)) {
			t.Fatalf("GET query: %d %s", res.StatusCode, body)
		}
	})

	t.Run("an oversized body is refused", func(t *testing.T) {
		big := `{"query": "{ me { id } }", "variables": {"pad": "` + strings.Repeat("x", maxBody) + `"}}`
		res, err := http.Post(e.http.URL+"/graphql", "application/json", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d", res.StatusCode)
		}
	})
}
