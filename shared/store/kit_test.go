package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/kgseller/kgseller/shared/store"
	"github.com/kgseller/kgseller/shared/tools/dbtest"
)

func kitCount(t *testing.T, s *store.Store, table, where string, args ...any) int {
	t.Helper()
	var n int
	q := "SELECT COUNT(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	if err := s.DB().Get(&n, q, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestKitTenantUpsertModifyDelete(t *testing.T) {
	s, _ := dbtest.Open(t)
	ctx := context.Background()
	ten := store.KitTenant{InstanceID: "i1", TenantID: "t1", OrderID: "o1", TenantCode: "code", Name: "A", DomainName: "https://a.example.com"}
	for i := 0; i < 3; i++ {
		if err := s.UpsertKitTenant(ctx, ten); err != nil {
			t.Fatal(err)
		}
	}
	if n := kitCount(t, s, "kit_tenants", ""); n != 1 {
		t.Fatalf("%d tenants after repeated adds, want 1", n)
	}
	mod := ten
	mod.Name, mod.DomainName, mod.TenantCode = "B", "https://b.example.com", "other-code"
	if err := s.ModifyKitTenant(ctx, mod); err != nil {
		t.Fatal(err)
	}
	got, err := s.KitLoginTarget(ctx, "t1", "app")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("login target without an app: %+v %v", got, err)
	}
	if err := s.UpsertKitApp(ctx, store.KitApp{InstanceID: "i1", TenantID: "t1", AppID: "app", ClientID: "c", SealedSecret: "v1:x"}); err != nil {
		t.Fatal(err)
	}
	got, err = s.KitLoginTarget(ctx, "t1", "app")
	if err != nil {
		t.Fatal(err)
	}
	if got.TenantName != "B" || got.DomainName != "https://b.example.com" || got.TenantCode != "code" {
		t.Fatalf("modify changed %+v; want name and domain only", got)
	}
	if byCode, err := s.KitLoginTarget(ctx, "code", "app"); err != nil || byCode.TenantID != "t1" {
		t.Fatalf("lookup by tenant code: %+v %v", byCode, err)
	}
	if err := s.UpsertKitUsers(ctx, []store.KitUser{{InstanceID: "i1", TenantID: "t1", AppID: "app", UserName: "u", Enabled: true}}, store.KitUsersAdd); err != nil {
		t.Fatal(err)
	}
	if err := s.UpsertKitOrgs(ctx, []store.KitOrg{{InstanceID: "i1", TenantID: "t1", OrgCode: "o", OrgName: "n"}}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := s.DeleteKitTenant(ctx, "i1", "t1"); err != nil {
			t.Fatal(err)
		}
	}
	for _, table := range []string{"kit_tenants", "kit_applications", "kit_users", "kit_orgs"} {
		if n := kitCount(t, s, table, ""); n != 0 {
			t.Fatalf("%d rows left in %s after the tenant was deleted", n, table)
		}
	}
	// A modify that overtakes its add creates the tenant.
	if err := s.ModifyKitTenant(ctx, mod); err != nil {
		t.Fatal(err)
	}
	if n := kitCount(t, s, "kit_tenants", "tenant_code = ?", "other-code"); n != 1 {
		t.Fatalf("modify of a missing tenant stored %d rows", n)
	}
}

func TestKitUsersAddModifyRevokeDelete(t *testing.T) {
	s, _ := dbtest.Open(t)
	ctx := context.Background()
	users := make([]store.KitUser, 250)
	for i := range users {
		users[i] = store.KitUser{InstanceID: "i", TenantID: "t", AppID: "a", UserName: fmt.Sprintf("user-%03d", i),
			Name: "N", Role: "user", Enabled: true, EmployeeType: sql.NullInt64{Int64: 1, Valid: true}}
	}
	for i := 0; i < 2; i++ {
		if err := s.UpsertKitUsers(ctx, users, store.KitUsersAdd); err != nil {
			t.Fatal(err)
		}
	}
	if n := kitCount(t, s, "kit_users", "authorized = 1"); n != 250 {
		t.Fatalf("%d authorised users, want 250", n)
	}
	if err := s.RevokeKitUsers(ctx, "i", "t", "a", []string{"user-001", "user-002", "nobody"}); err != nil {
		t.Fatal(err)
	}
	mod := users[1]
	mod.Name = "Renamed"
	if err := s.UpsertKitUsers(ctx, []store.KitUser{mod}, store.KitUsersModify); err != nil {
		t.Fatal(err)
	}
	u, err := s.KitUser(ctx, "i", "t", "a", "user-001")
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Renamed" || u.Authorized {
		t.Fatalf("modify after revoke: %+v; want renamed and still revoked", u)
	}
	if err := s.UpsertKitUsers(ctx, []store.KitUser{users[1]}, store.KitUsersAdd); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.KitUser(ctx, "i", "t", "a", "user-001"); !u.Authorized {
		t.Fatal("add after revoke did not authorise the user again")
	}
	for i := 0; i < 2; i++ {
		if err := s.DeleteKitUsers(ctx, "i", "t", "a", []string{"user-000", "user-001", "ghost"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := kitCount(t, s, "kit_users", ""); n != 248 {
		t.Fatalf("%d users after deleting two, want 248", n)
	}
	if _, err := s.KitUser(ctx, "i", "t", "a", "user-000"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted user: %v", err)
	}
}

// TestKitConcurrentDuplicates sends the same adds from 30 goroutines at once; each
// key must end with exactly one row.
func TestKitConcurrentDuplicates(t *testing.T) {
	s, _ := dbtest.Open(t)
	ctx := context.Background()
	users := make([]store.KitUser, 120)
	for i := range users {
		users[i] = store.KitUser{InstanceID: "i", TenantID: "t", AppID: "a", UserName: fmt.Sprintf("u%03d", i), Enabled: true}
	}
	orgs := make([]store.KitOrg, 60)
	for i := range orgs {
		orgs[i] = store.KitOrg{InstanceID: "i", TenantID: "t", OrgCode: fmt.Sprintf("o%02d", i), OrgName: "n"}
	}
	const n = 30
	var wg sync.WaitGroup
	errs := make(chan error, 5*n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.UpsertKitTenant(ctx, store.KitTenant{InstanceID: "i", TenantID: "t", TenantCode: "c", Name: "n", DomainName: "https://d"})
			errs <- s.UpsertKitApp(ctx, store.KitApp{InstanceID: "i", TenantID: "t", AppID: "a", ClientID: "c", SealedSecret: "s"})
			errs <- s.UpsertKitUsers(ctx, users, store.KitUsersAdd)
			errs <- s.UpsertKitOrgs(ctx, orgs)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for table, want := range map[string]int{"kit_tenants": 1, "kit_applications": 1, "kit_users": 120, "kit_orgs": 60} {
		if got := kitCount(t, s, table, ""); got != want {
			t.Fatalf("%s has %d rows after %d concurrent duplicates, want %d (%s)", table, got, n, want, dbtest.Engine())
		}
	}
}
