package sinkconfig

import (
	"errors"
	"fmt"
	"os"
)

// Resolve checks that the environment variable named by every secret_env is set and not
// empty, so a missing secret stops the start instead of sending unsigned or failing
// webhooks later. getenv is os.Getenv when nil (tests pass their own). The secrets are not
// kept: the webhook sender reads them itself.
func (f *File) Resolve(getenv func(string) string) error {
	if getenv == nil {
		getenv = os.Getenv
	}
	file := f.name
	if file == "" {
		file = "<input>"
	}
	var probs []error
	missing := func(line int, path, what, name, env string) {
		probs = append(probs, &Problem{
			File: file, Line: line, Path: path,
			Message: fmt.Sprintf("%s %q: environment variable %s is not set; it must hold the webhook's HMAC secret",
				what, name, env),
		})
	}
	for i, s := range f.Sinks {
		if s.Type == SinkWebhook && getenv(s.SecretEnv) == "" {
			missing(s.Line, fmt.Sprintf("sinks[%d].secret_env", i), "sink", s.Name, s.SecretEnv)
		}
	}
	for i, a := range f.Automations {
		if w := a.Action.Webhook; w != nil && getenv(w.SecretEnv) == "" {
			missing(a.Line, fmt.Sprintf("automations[%d].action.webhook.secret_env", i), "automation", a.Name, w.SecretEnv)
		}
	}
	return errors.Join(probs...)
}
