package stream

import (
	"testing"

	"github.com/bluepoint/bluepoint/internal/testenv"
)

// DeletePrefixed deletes the streams of one prefix and no other.
func TestDeletePrefixed(t *testing.T) {
	url := testenv.NATS(t)
	if err := DeletePrefixed(testCtx(t), url, ""); err == nil {
		t.Fatal("an empty prefix was accepted")
	}
	doomed, kept := randomPrefix(t), randomPrefix(t)
	b, err := Open(testCtx(t), Config{URL: url, Prefix: doomed})
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	js := openBroker(t, Config{URL: url, Prefix: kept}).JetStream() // deletes its own at the end
	if err := DeletePrefixed(testCtx(t), url, doomed); err != nil {
		t.Fatal(err)
	}
	names := js.StreamNames(testCtx(t))
	left := map[string]bool{}
	for n := range names.Name() {
		left[n] = true
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	for _, s := range append(append([]string(nil), eventStreams...), DeadLetterStream) {
		if left[doomed+s] {
			t.Errorf("stream %s was not deleted", doomed+s)
		}
		if !left[kept+s] {
			t.Errorf("stream %s of another prefix was deleted", kept+s)
		}
	}
}
