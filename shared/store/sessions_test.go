package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

// sessionFixture is a store on a fresh database with a tenant and two authorised
// users of one application, on a clock the test moves.
func sessionFixture(t *testing.T, c *dbtest.Counter) (*store.Store, *testClock) {
	t.Helper()
	clock := &testClock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	var s *store.Store
	if c != nil {
		s = dbtest.OpenCounted(t, c)
	} else {
		s, _ = dbtest.Open(t)
	}
	s = s.WithClock(clock.now)
	ctx := context.Background()
	if err := s.UpsertKitTenant(ctx, store.KitTenant{InstanceID: "i1", TenantID: "t1", TenantCode: "c1", Name: "Tenant One", DomainName: "https://idp.example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertKitUsers(ctx, []store.KitUser{
		{InstanceID: "i1", TenantID: "t1", AppID: "a1", UserName: "u1", Name: "User One", Role: "admin", OrgCode: "D1", Enabled: true},
		{InstanceID: "i1", TenantID: "t1", AppID: "a1", UserName: "u2", Name: "User Two", Role: "user", Enabled: true},
	}, store.KitUsersAdd); err != nil {
		t.Fatal(err)
	}
	return s, clock
}

var u1 = store.SSOSession{InstanceID: "i1", TenantID: "t1", AppID: "a1", UserName: "u1"}

func valid(t *testing.T, s *store.Store, key string) bool {
	t.Helper()
	_, err := s.ValidSSOSession(context.Background(), key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

func TestSSOSessionLifecycle(t *testing.T) {
	s, clock := sessionFixture(t, nil)
	ctx := context.Background()
	if err := s.CreateSSOSession(ctx, "k1", u1, 8*time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err := s.ValidSSOSession(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	want := store.SSOSessionUser{InstanceID: "i1", TenantID: "t1", AppID: "a1", UserName: "u1", ExpiresAt: clock.t.Add(8 * time.Hour),
		Name: "User One", Role: "admin", OrgCode: "D1", TenantName: "Tenant One"}
	if got != want {
		t.Fatalf("session %+v, want %+v", got, want)
	}
	if valid(t, s, "other-key") {
		t.Fatal("an unknown key is valid")
	}
	// A session ID is unique: a second row under the same key is refused.
	if err := s.CreateSSOSession(ctx, "k1", u1, time.Hour); !store.IsDuplicate(err) {
		t.Fatalf("duplicate session key: %v", err)
	}
	// The user's details are read at each check.
	if err := s.UpsertKitUsers(ctx, []store.KitUser{{InstanceID: "i1", TenantID: "t1", AppID: "a1", UserName: "u1", Name: "Renamed", Role: "user", Enabled: true}}, store.KitUsersModify); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ValidSSOSession(ctx, "k1"); got.Name != "Renamed" || got.Role != "user" {
		t.Fatalf("after modify: %+v", got)
	}
	// Expiry, and renewal before it.
	clock.t = clock.t.Add(7 * time.Hour)
	if err := s.ExtendSSOSession(ctx, "k1", 8*time.Hour); err != nil {
		t.Fatal(err)
	}
	clock.t = clock.t.Add(7 * time.Hour)
	if !valid(t, s, "k1") {
		t.Fatal("renewed session expired")
	}
	clock.t = clock.t.Add(time.Hour)
	if valid(t, s, "k1") {
		t.Fatal("session valid at its expiry")
	}
	// Ending is final and idempotent; an ended session is not renewed.
	if err := s.CreateSSOSession(ctx, "k2", u1, 8*time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, reason := range []string{store.SSOEndLogout, store.SSOEndRefused} {
		if err := s.EndSSOSession(ctx, "k2", reason); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ExtendSSOSession(ctx, "k2", 8*time.Hour); err != nil {
		t.Fatal(err)
	}
	if valid(t, s, "k2") {
		t.Fatal("ended session valid")
	}
	var reason string
	if err := s.DB().Get(&reason, "SELECT end_reason FROM sso_sessions WHERE id_hash = 'k2'"); err != nil || reason != store.SSOEndLogout {
		t.Fatalf("end reason %q %v", reason, err)
	}
	if err := s.EndSSOSession(ctx, "never-created", store.SSOEndLogout); err != nil {
		t.Fatal(err)
	}
	// Purge deletes expired sessions only.
	if err := s.CreateSSOSession(ctx, "k3", u1, time.Hour); err != nil {
		t.Fatal(err)
	}
	clock.t = clock.t.Add(30 * time.Minute)
	if n, err := s.PurgeSSOSessions(ctx, 100); err != nil || n != 1 {
		t.Fatalf("purged %d %v, want the expired k1", n, err)
	}
	if n := kitCount(t, s, "sso_sessions", ""); n != 2 {
		t.Fatalf("%d sessions left, want k2 and k3", n)
	}
}

// Every Kit change that takes a user's right to sign in away takes their sessions
// with it, with no write to the sessions; other users keep theirs.
func TestSSOSessionFollowsKitData(t *testing.T) {
	ctx := context.Background()
	for name, change := range map[string]func(s *store.Store) error{
		"revoked": func(s *store.Store) error { return s.RevokeKitUsers(ctx, "i1", "t1", "a1", []string{"u1"}) },
		"deleted": func(s *store.Store) error { return s.DeleteKitUsers(ctx, "i1", "t1", "a1", []string{"u1"}) },
		"disabled": func(s *store.Store) error {
			return s.UpsertKitUsers(ctx, []store.KitUser{{InstanceID: "i1", TenantID: "t1", AppID: "a1", UserName: "u1", Enabled: false}}, store.KitUsersModify)
		},
		"application deleted": func(s *store.Store) error { return s.DeleteKitApp(ctx, "i1", "t1", "a1") },
		"tenant deleted":      func(s *store.Store) error { return s.DeleteKitTenant(ctx, "i1", "t1") },
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := sessionFixture(t, nil)
			for _, k := range []string{"k1", "k2"} {
				sess := u1
				if k == "k2" {
					sess.UserName = "u2"
				}
				if err := s.CreateSSOSession(ctx, k, sess, 8*time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			if err := change(s); err != nil {
				t.Fatal(err)
			}
			if valid(t, s, "k1") {
				t.Fatal("the session outlived the change")
			}
			userLevel := name != "application deleted" && name != "tenant deleted"
			if got := valid(t, s, "k2"); got != userLevel {
				t.Fatalf("the other user's session valid: %v, want %v", got, userLevel)
			}
			// Revocations, deletions and the tenant's deletion end the rows
			// themselves; an application's deletion leaves them to the check.
			wantOpen := 0
			switch name {
			case "application deleted":
				wantOpen = 2
			case "revoked", "deleted", "disabled":
				wantOpen = 1
			}
			if n := kitCount(t, s, "sso_sessions", "ended_at IS NULL"); n != wantOpen {
				t.Fatalf("%d sessions left open, want %d", n, wantOpen)
			}
		})
	}
}

// A user revoked or disabled and then authorised or enabled again, with no
// request in between, does not get the old session back.
func TestSSOSessionOfAReauthorisedUser(t *testing.T) {
	ctx := context.Background()
	enabled := func(on bool) []store.KitUser {
		return []store.KitUser{{InstanceID: "i1", TenantID: "t1", AppID: "a1", UserName: "u1", Enabled: on}}
	}
	for name, change := range map[string][2]func(s *store.Store) error{
		"revoked, then added": {
			func(s *store.Store) error { return s.RevokeKitUsers(ctx, "i1", "t1", "a1", []string{"u1"}) },
			func(s *store.Store) error { return s.UpsertKitUsers(ctx, enabled(true), store.KitUsersAdd) },
		},
		"disabled, then enabled": {
			func(s *store.Store) error { return s.UpsertKitUsers(ctx, enabled(false), store.KitUsersModify) },
			func(s *store.Store) error { return s.UpsertKitUsers(ctx, enabled(true), store.KitUsersModify) },
		},
	} {
		t.Run(name, func(t *testing.T) {
			s, clock := sessionFixture(t, nil)
			if err := s.CreateSSOSession(ctx, "k1", u1, 8*time.Hour); err != nil {
				t.Fatal(err)
			}
			for _, step := range change {
				clock.t = clock.t.Add(time.Minute)
				if err := step(s); err != nil {
					t.Fatal(err)
				}
			}
			if valid(t, s, "k1") {
				t.Fatal("the old session works again")
			}
			if err := s.CreateSSOSession(ctx, "k2", u1, 8*time.Hour); err != nil {
				t.Fatal(err)
			}
			if !valid(t, s, "k2") {
				t.Fatal("a new sign-in after the change is refused")
			}
		})
	}
}

// A user or tenant deleted and synced again is a new row; sessions of the old one
// stay invalid.
func TestSSOSessionOfARecreatedUser(t *testing.T) {
	ctx := context.Background()
	s, clock := sessionFixture(t, nil)
	if err := s.CreateSSOSession(ctx, "k1", u1, 8*time.Hour); err != nil {
		t.Fatal(err)
	}
	clock.t = clock.t.Add(time.Minute)
	if err := s.DeleteKitUsers(ctx, "i1", "t1", "a1", []string{"u1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertKitUsers(ctx, []store.KitUser{{InstanceID: "i1", TenantID: "t1", AppID: "a1", UserName: "u1", Enabled: true}}, store.KitUsersAdd); err != nil {
		t.Fatal(err)
	}
	if valid(t, s, "k1") {
		t.Fatal("a re-created user's old session is valid")
	}
	// A session started after the user was synced again is valid.
	if err := s.CreateSSOSession(ctx, "k2", u1, 8*time.Hour); err != nil {
		t.Fatal(err)
	}
	if !valid(t, s, "k2") {
		t.Fatal("new session invalid")
	}
}

// Checking a session is one round trip, whatever its outcome.
func TestSSOSessionCheckIsOneQuery(t *testing.T) {
	c := &dbtest.Counter{}
	s, _ := sessionFixture(t, c)
	ctx := context.Background()
	if err := s.CreateSSOSession(ctx, "k1", u1, 8*time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"k1", "missing"} {
		before := c.RoundTrips()
		_, err := s.ValidSSOSession(ctx, key)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if n := c.RoundTrips() - before; n != 1 {
			t.Fatalf("checking %s took %d round trips", key, n)
		}
	}
}
