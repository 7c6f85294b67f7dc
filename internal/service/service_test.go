package service_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/bluepoint/bluepoint/internal/auth/password"
	"github.com/bluepoint/bluepoint/internal/command"
	"github.com/bluepoint/bluepoint/internal/domain"
	"github.com/bluepoint/bluepoint/internal/domain/account"
	"github.com/bluepoint/bluepoint/internal/eventstore"
	"github.com/bluepoint/bluepoint/internal/eventstore/storetest"
	"github.com/bluepoint/bluepoint/internal/pii"
	"github.com/bluepoint/bluepoint/internal/service"
	"github.com/bluepoint/bluepoint/internal/testenv"
)

// fastHashes keeps tests quick; the parameters travel with each hash.
var fastHashes = password.Params{Time: 1, Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}

type env struct {
	store eventstore.Store
	svc   *service.Service
	staff service.Actor
	clock *clock
}

// clock is a settable time source shared by the service and its tokens.
type clock = testenv.Clock

// forEachStore runs fn on SQLite and, when configured, on Postgres.
func forEachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, d := range []struct {
		name string
		open func(*testing.T, storetest.Options) eventstore.Store
	}{{"sqlite", storetest.OpenSQLite}, {"postgres", storetest.OpenPostgres}} {
		t.Run(d.name, func(t *testing.T) {
			st := d.open(t, storetest.Options{})
			master, err := pii.NewMasterKey()
			if err != nil {
				t.Fatal(err)
			}
			_, signing, err := ed25519.GenerateKey(nil)
			if err != nil {
				t.Fatal(err)
			}
			clk := testenv.NewClock(time.Now().UTC())
			svc, err := service.New(service.Config{Store: st, Master: master, EncounterKey: signing, Now: clk.Now,
				Hasher: password.NewHasher(fastHashes, 4), Pipeline: command.Config{MaxRetries: 50}})
			if err != nil {
				t.Fatal(err)
			}
			e := &env{store: st, svc: svc, clock: clk}
			out, err := svc.CreateStaff(ctxT(t), "Operator One", "ops@example.org", "staff-password")
			if err != nil {
				t.Fatalf("create staff: %v", err)
			}
			e.staff = service.Actor{ID: ref(t, out).ID, Kind: account.Staff}
			fn(t, e)
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func ref(t *testing.T, out *command.Outcome) service.AccountRef {
	t.Helper()
	var r service.AccountRef
	if err := json.Unmarshal(out.Result.Body, &r); err != nil {
		t.Fatalf("decode result %s: %v", out.Result.Body, err)
	}
	return r
}

func signUp(kind account.Kind, email string, profile account.Profile) service.OpenAccount {
	return service.OpenAccount{Kind: kind, Name: "Ana Pérez", Email: email, Password: "s3cret-enough", Profile: profile}
}

var profiles = map[account.Kind]account.Profile{
	account.Civilian: {},
	account.Officer:  {BadgeNumber: "B-17", Department: "Central"},
	account.Merchant: {BusinessName: "Corner Shop", Address: "1 Main St"},
	account.Charity:  {RegistrationNumber: "CH-001"},
}

func (e *env) open(t *testing.T, kind account.Kind, email string) service.AccountRef {
	t.Helper()
	out, err := e.svc.OpenAccount(ctxT(t), service.Call{}, signUp(kind, email, profiles[kind]))
	if err != nil {
		t.Fatalf("open %s: %v", kind, err)
	}
	return ref(t, out)
}

func (e *env) verify(t *testing.T, id string) {
	t.Helper()
	if _, err := e.svc.VerifyAccount(ctxT(t), service.Call{Actor: e.staff}, id); err != nil {
		t.Fatalf("verify %s: %v", id, err)
	}
}

func wantDomain(t *testing.T, err error, code, field string) {
	t.Helper()
	de := domain.As(err)
	if de == nil || de.Code != code || de.Field != field {
		t.Fatalf("want domain error %s on %q, got %v", code, field, err)
	}
}

func TestOpenEveryKind(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		want := map[account.Kind]account.Status{account.Civilian: account.Active, account.Merchant: account.Active,
			account.Officer: account.Pending, account.Charity: account.Pending}
		for kind, status := range want {
			r := e.open(t, kind, string(kind)+"@example.org")
			if r.Kind != kind || r.Status != status {
				t.Errorf("%s opened as %+v, want status %s", kind, r, status)
			}
		}
		charity := e.open(t, account.Charity, "sponsor@example.org")
		fam := signUp(account.Family, "family@example.org", account.Profile{HouseholdSize: 4, SponsorCharityID: charity.ID})
		_, err := e.svc.OpenAccount(ctxT(t), service.Call{}, fam)
		wantDomain(t, err, domain.CodeInvalid, "profile.sponsor_charity_id") // still pending
		e.verify(t, charity.ID)
		out, err := e.svc.OpenAccount(ctxT(t), service.Call{}, fam)
		if err != nil || ref(t, out).Status != account.Pending {
			t.Fatalf("family with a verified sponsor: %v", err)
		}
		civ := e.open(t, account.Civilian, "nobody-sponsors@example.org")
		fam.Email, fam.Profile.SponsorCharityID = "family2@example.org", civ.ID
		_, err = e.svc.OpenAccount(ctxT(t), service.Call{}, fam)
		wantDomain(t, err, domain.CodeInvalid, "profile.sponsor_charity_id")
		_, err = e.svc.OpenAccount(ctxT(t), service.Call{}, signUp(account.Staff, "sneaky@example.org", account.Profile{}))
		wantDomain(t, err, domain.CodeInvalid, "kind")
		_, err = e.svc.OpenAccount(ctxT(t), service.Call{}, service.OpenAccount{Kind: account.Civilian, Name: "A", Email: "short@example.org", Password: "short"})
		wantDomain(t, err, domain.CodeInvalid, "password")
	})
}

// Personal fields are encrypted in the stored events: the raw payload holds
// tokens, never the email or name.
func TestPersonalFieldsAreSealedAtRest(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		r := e.open(t, account.Officer, "Officer.Ana@Example.org")
		evs, err := e.store.ReadStream(ctxT(t), &eventstore.ReadStreamParams{StreamID: "account-" + r.ID})
		if err != nil || len(evs) != 1 {
			t.Fatalf("read: %v", err)
		}
		var raw map[string]any
		if err := json.Unmarshal(evs[0].Data, &raw); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"email", "name", "badge_number"} {
			v, _ := raw[f].(string)
			if !pii.IsSealed(v) {
				t.Errorf("stored %s is not sealed: %q", f, v)
			}
		}
		if raw["department"] != "Central" || raw["email_index"] == "" {
			t.Errorf("non-personal fields: %v", raw)
		}
		opened, err := pii.OpenValue(ctxT(t), e.svc.Cipher(), mustDecode(t, e, evs[0]))
		if err != nil || opened.(account.AccountOpened).Email != "officer.ana@example.org" {
			t.Fatalf("opened %+v, %v", opened, err)
		}
	})
}

func mustDecode(t *testing.T, e *env, r eventstore.Event) any {
	t.Helper()
	v, err := e.svc.Codec().Decode(r)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Ten sign-ups race for one email (in different cases): one account opens.
func TestEmailIsUniqueUnderConcurrentSignUps(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		emails := []string{"race@example.org", "RACE@example.org", " Race@Example.ORG "}
		results := make(chan error, 10)
		for i := 0; i < 10; i++ {
			go func(i int) {
				_, err := e.svc.OpenAccount(context.Background(), service.Call{}, signUp(account.Civilian, emails[i%3], account.Profile{}))
				results <- err
			}(i)
		}
		ok := 0
		for i := 0; i < 10; i++ {
			err := <-results
			if err == nil {
				ok++
				continue
			}
			wantDomain(t, err, domain.CodeConflict, "email")
		}
		if ok != 1 {
			t.Fatalf("%d accounts opened with one email, want 1", ok)
		}
	})
}

func TestVerifyAndAuthenticate(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		off := e.open(t, account.Officer, "officer@example.org")
		civ := e.open(t, account.Civilian, "civ@example.org")
		_, err := e.svc.VerifyAccount(ctxT(t), service.Call{Actor: service.Actor{ID: civ.ID, Kind: account.Civilian}}, off.ID)
		wantDomain(t, err, domain.CodeForbidden, "")
		e.verify(t, off.ID)
		_, err = e.svc.VerifyAccount(ctxT(t), service.Call{Actor: e.staff}, off.ID)
		wantDomain(t, err, domain.CodeConflict, "")
		_, err = e.svc.VerifyAccount(ctxT(t), service.Call{Actor: e.staff}, "not-a-uuid")
		if domain.As(err) == nil {
			t.Fatalf("verifying a missing account: want a domain error, got %v", err)
		}

		actor, err := e.svc.Authenticate(ctxT(t), " Officer@Example.org", "s3cret-enough")
		if err != nil || actor.ID != off.ID || actor.Kind != account.Officer {
			t.Fatalf("sign in: %+v, %v", actor, err)
		}
		staff, err := e.svc.Authenticate(ctxT(t), "ops@example.org", "staff-password")
		if err != nil || !staff.IsStaff() {
			t.Fatalf("staff sign in: %+v, %v", staff, err)
		}
		for _, c := range []struct{ email, pw string }{
			{"officer@example.org", "wrong-password"}, {"nobody@example.org", "s3cret-enough"},
		} {
			if _, err := e.svc.Authenticate(ctxT(t), c.email, c.pw); !errors.Is(err, service.ErrBadCredentials) {
				t.Errorf("sign in %s: want ErrBadCredentials, got %v", c.email, err)
			}
		}
		if _, err := e.svc.CloseAccount(ctxT(t), service.Call{Actor: service.Actor{ID: civ.ID, Kind: account.Civilian}}, off.ID, ""); domain.As(err) == nil {
			t.Fatalf("closing another's account: want forbidden, got %v", err)
		}
		if _, err := e.svc.CloseAccount(ctxT(t), service.Call{Actor: actor}, off.ID, "moving away"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(ctxT(t), "officer@example.org", "s3cret-enough"); !errors.Is(err, service.ErrBadCredentials) {
			t.Fatalf("a closed account signed in: %v", err)
		}
	})
}

// Erasure: personal fields read as erased everywhere, the account still
// replays, and its email can be used again.
func TestErasure(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		civActor := e.richCivilian(t, "forget-me@example.org", 70)
		civ := service.AccountRef{ID: civActor.ID, Kind: account.Civilian}
		me := service.Call{Actor: civActor}
		if _, err := e.svc.UpdateProfile(ctxT(t), me, civ.ID, "Ana P.", "+34600111222", account.Profile{}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.EraseAccount(ctxT(t), me, civ.ID); err != nil {
			t.Fatal(err)
		}
		evs, _ := e.store.ReadStream(ctxT(t), &eventstore.ReadStreamParams{StreamID: "account-" + civ.ID})
		if len(evs) != 4 { // opened, credited, profile updated, erased
			t.Fatalf("%d events after erasure, want 4", len(evs))
		}
		for _, r := range evs {
			v, err := pii.OpenValue(ctxT(t), e.svc.Cipher(), mustDecode(t, e, r))
			if err != nil {
				t.Fatal(err)
			}
			switch ev := v.(type) {
			case account.AccountOpened:
				if ev.Email != pii.Erased || ev.Name != pii.Erased {
					t.Errorf("opened event still readable: %+v", ev)
				}
			case account.ProfileUpdated:
				if ev.Phone != pii.Erased {
					t.Errorf("profile event still readable: %+v", ev)
				}
			}
		}
		state, err := e.svc.Account(ctxT(t), civ.ID)
		if err != nil || state.Status != account.Active || state.ErasedAt.IsZero() || state.Balance != 70 {
			t.Fatalf("account after erasure: %+v, %v", state, err)
		}
		if _, err := e.svc.EraseAccount(ctxT(t), me, civ.ID); err != nil {
			t.Fatalf("erasing twice: %v", err)
		}
		again := e.open(t, account.Civilian, "forget-me@example.org")
		if again.ID == civ.ID {
			t.Fatal("the email was not released")
		}
	})
}

func TestRetriedSignUpOpensOneAccount(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		call := service.Call{IdempotencyKey: "k-1", Fingerprint: "f-1", TraceID: "t-1"}
		first, err := e.svc.OpenAccount(ctxT(t), call, signUp(account.Civilian, "once@example.org", account.Profile{}))
		if err != nil {
			t.Fatal(err)
		}
		second, err := e.svc.OpenAccount(ctxT(t), call, signUp(account.Civilian, "once@example.org", account.Profile{}))
		if err != nil || !second.Replayed || ref(t, second).ID != ref(t, first).ID {
			t.Fatalf("retry: replayed=%v, %v", second != nil && second.Replayed, err)
		}
		steps, _ := e.store.TraceSteps(ctxT(t), "t-1")
		if len(steps) != 2 || steps[0].Status != command.StatusApplied || steps[1].Status != command.StatusDuplicate {
			t.Fatalf("trace %+v", steps)
		}
	})
}
