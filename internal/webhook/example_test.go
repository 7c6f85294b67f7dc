package webhook_test

import (
	"io"
	"net/http"
	"time"

	"github.com/bluepoint/bluepoint/internal/webhook"
)

// A receiver verifies the raw body before decoding it, and answers 401 when
// the signature does not hold so the sender does not retry.
func ExampleVerify() {
	secrets := [][]byte{[]byte("current"), []byte("previous")} // during rotation
	http.HandleFunc("/hooks/bluepoint", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err := webhook.Verify(secrets, r.Header, body, time.Now(), 0); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		// Deliveries are at least once: drop an already seen
		// r.Header.Get("Bluepoint-Event-Id"), then handle the CloudEvent.
		w.WriteHeader(http.StatusNoContent)
	})
}
