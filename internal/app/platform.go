package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/bluepoint/bluepoint/internal/auth/password"
	"github.com/bluepoint/bluepoint/internal/config"
	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/encounter"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/pii"
	"github.com/bluepoint/bluepoint/internal/service"
)

// masterKey returns the configured master key, or reads it from the secrets
// directory, creating it on first start.
func masterKey(cfg config.Config, logger *slog.Logger) (pii.MasterKey, error) {
	if cfg.MasterKey != "" {
		k, err := pii.MasterKeyFromEnv(cfg.MasterKey)
		if err != nil {
			return pii.MasterKey{}, fmt.Errorf("master key: %w", err)
		}
		return k, nil
	}
	k, created, err := pii.LoadOrCreateMasterKey(cfg.SecretsDir)
	if err != nil {
		return pii.MasterKey{}, fmt.Errorf("master key in %s: %w", cfg.SecretsDir, err)
	}
	if created {
		msg := "created a master key; back it up: without it personal data cannot be read"
		if !cfg.UsesSQLite() {
			msg += "; every process of this deployment must use the same key (BLUEPOINT_MASTER_KEY)"
		}
		logger.Warn(msg, "dir", cfg.SecretsDir)
	}
	return k, nil
}

// serviceOption changes the service newService builds, for the few callers
// that need something other than the defaults (the demo's simulated clock).
type serviceOption func(*service.Config)

// withClock makes the service, and the trace steps its commands record,
// read the time from now.
func withClock(now func() time.Time) serviceOption {
	return func(c *service.Config) { c.Now, c.Pipeline.Now = now, now }
}

// newService builds the use cases over an open store, with the keys from
// the configuration and the secrets directory.
func newService(cfg config.Config, store eventstore.Store, logger *slog.Logger, opts ...serviceOption) (*service.Service, error) {
	master, err := masterKey(cfg, logger)
	if err != nil {
		return nil, err
	}
	signing, created, err := encounter.LoadOrCreateKey(cfg.SecretsDir)
	if err != nil {
		return nil, fmt.Errorf("encounter signing key in %s: %w", cfg.SecretsDir, err)
	}
	if created && !cfg.UsesSQLite() {
		logger.Warn("created an encounter signing key; every process of this deployment must share it", "dir", cfg.SecretsDir)
	}
	sc := service.Config{Store: store, Master: master, EncounterKey: signing, Logger: logger,
		Hasher: password.NewHasher(password.DefaultParams, cfg.HashConcurrency)}
	sc.Pipeline.StateCacheSize = cfg.StateCacheSize
	for _, o := range opts {
		o(&sc)
	}
	svc, err := service.New(sc)
	if err != nil {
		return nil, fmt.Errorf("build service: %w", err)
	}
	return svc, nil
}

// FirstStaffEmail is the email of the staff account the embedded default
// creates on first start.
const FirstStaffEmail = "admin@bluepoint.localhost"

// bootstrapStaff gives a fresh embedded installation one staff account, so
// the operator can sign in at once, and prints its credentials on out, once:
// the password is random and stored only as a hash.
func bootstrapStaff(ctx context.Context, svc *service.Service, out io.Writer) error {
	if taken, err := svc.EmailTaken(ctx, FirstStaffEmail); err != nil || taken {
		return err // taken: created on an earlier start
	}
	pw := make([]byte, 18)
	if _, err := rand.Read(pw); err != nil {
		return fmt.Errorf("first staff password: %w", err)
	}
	password := base64.RawURLEncoding.EncodeToString(pw)
	outcome, err := svc.CreateStaff(ctx, "Bluepoint operator", FirstStaffEmail, password)
	if de := domain.As(err); de != nil && de.Code == domain.CodeConflict {
		return nil // another process created it a moment ago
	}
	if err != nil {
		return fmt.Errorf("create the first staff account: %w", err)
	}
	_, err = fmt.Fprintf(out, "\nBluepoint created a staff account (shown once, keep it safe):\n  email:    %s\n  password: %s\n  id:       %s\n\n",
		FirstStaffEmail, password, accountID(outcome.Result.Body))
	return err
}

func accountID(body []byte) string {
	var ref service.AccountRef
	if err := json.Unmarshal(body, &ref); err != nil {
		return "?"
	}
	return ref.ID
}

// CreateStaffParams says which staff account CreateStaff opens.
type CreateStaffParams struct {
	Config   config.Config
	Name     string
	Email    string
	Password string
}

// CreateStaff opens the store cfg selects (a server may be running on it)
// and creates a staff account, returning its id.
func CreateStaff(ctx context.Context, p CreateStaffParams, logger *slog.Logger) (string, error) {
	store, err := openStore(ctx, p.Config)
	if err != nil {
		return "", err
	}
	defer store.Close()
	svc, err := newService(p.Config, store, logger)
	if err != nil {
		return "", err
	}
	out, err := svc.CreateStaff(ctx, p.Name, p.Email, p.Password)
	if err != nil {
		return "", err
	}
	return accountID(out.Result.Body), nil
}
