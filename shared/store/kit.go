package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
)

// Kit data (joint-operation sync). Every write is keyed by the table's PRIMARY KEY,
// which is the protocol's idempotency key: adds and modifies are
// INSERT … ON DUPLICATE KEY UPDATE, so a repeat or a concurrent duplicate updates
// the one row in place and can never create a second; deletes of missing rows
// affect nothing and succeed. Nothing here reads before it writes. A call's
// writes are one batch (batch.go): one transaction, one round trip unless its SQL
// exceeds a packet: 500 users or 10,000 departments take the round trips of one.

// KitTenant is a tenant pushed by tenantSync.
type KitTenant struct {
	InstanceID string `db:"instance_id"`
	TenantID   string `db:"tenant_id"`
	OrderID    string `db:"order_id"`
	TenantCode string `db:"tenant_code"`
	Name       string `db:"name"`
	DomainName string `db:"domain_name"`
	TestFlag   bool   `db:"test_flag"`
	SyncTime   string `db:"sync_time"`
}

// KitApp is an application credential pushed by applicationSync. SealedSecret is
// the client secret sealed by the caller; the store never sees the plaintext.
type KitApp struct {
	InstanceID   string `db:"instance_id"`
	TenantID     string `db:"tenant_id"`
	AppID        string `db:"app_id"`
	ClientID     string `db:"client_id"`
	SealedSecret string `db:"client_secret"`
	TestFlag     bool   `db:"test_flag"`
	SyncTime     string `db:"sync_time"`
}

// KitUser is a user pushed by authSync.
type KitUser struct {
	InstanceID   string        `db:"instance_id"`
	TenantID     string        `db:"tenant_id"`
	AppID        string        `db:"app_id"`
	UserName     string        `db:"user_name"`
	Name         string        `db:"name"`
	OrgCode      string        `db:"org_code"`
	Position     string        `db:"position"`
	EmployeeCode string        `db:"employee_code"`
	EmployeeType sql.NullInt64 `db:"employee_type"`
	Role         string        `db:"role"`
	Enabled      bool          `db:"enabled"`
	Authorized   bool          `db:"authorized"`
	Mobile       string        `db:"mobile"`
	Email        string        `db:"email"`
	WorkPlace    string        `db:"work_place"`
	EntryDate    string        `db:"entry_date"`
	TestFlag     bool          `db:"test_flag"`
	SyncTime     string        `db:"sync_time"`
}

// KitOrg is a department pushed by singleOrgSync or allOrgSync.
type KitOrg struct {
	InstanceID string `db:"instance_id"`
	TenantID   string `db:"tenant_id"`
	OrgCode    string `db:"org_code"`
	OrgName    string `db:"org_name"`
	ParentCode string `db:"parent_code"`
	TestFlag   bool   `db:"test_flag"`
	SyncTime   string `db:"sync_time"`
}

// UpsertKitTenant stores a tenant (tenantSync add). A repeat updates the row in place.
func (s *Store) UpsertKitTenant(ctx context.Context, t KitTenant) error {
	now := s.now()
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO kit_tenants (instance_id, tenant_id, order_id, tenant_code, name, domain_name, test_flag, sync_time, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON DUPLICATE KEY UPDATE order_id = VALUES(order_id), tenant_code = VALUES(tenant_code), name = VALUES(name),
		   domain_name = VALUES(domain_name), test_flag = VALUES(test_flag), sync_time = VALUES(sync_time), updated_at = VALUES(updated_at)`,
		t.InstanceID, t.TenantID, t.OrderID, t.TenantCode, t.Name, t.DomainName, t.TestFlag, t.SyncTime, now, now)
	if err != nil {
		return fmt.Errorf("store: saving kit tenant: %w", err)
	}
	return nil
}

// ModifyKitTenant applies tenantSync modify: only the name and the domain change.
// A tenant not stored yet is created from the request, so a modify that overtakes
// its add is not lost.
func (s *Store) ModifyKitTenant(ctx context.Context, t KitTenant) error {
	now := s.now()
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO kit_tenants (instance_id, tenant_id, order_id, tenant_code, name, domain_name, test_flag, sync_time, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON DUPLICATE KEY UPDATE name = VALUES(name), domain_name = VALUES(domain_name),
		   sync_time = VALUES(sync_time), updated_at = VALUES(updated_at)`,
		t.InstanceID, t.TenantID, t.OrderID, t.TenantCode, t.Name, t.DomainName, t.TestFlag, t.SyncTime, now, now)
	if err != nil {
		return fmt.Errorf("store: modifying kit tenant: %w", err)
	}
	return nil
}

// DeleteKitTenant removes a tenant of an instance together with its applications,
// users and departments. Deleting what is not there succeeds.
func (s *Store) DeleteKitTenant(ctx context.Context, instanceID, tenantID string) error {
	b := s.newBatch()
	for _, table := range []string{"kit_users", "kit_applications", "kit_orgs", "kit_tenants"} {
		b.add("DELETE FROM "+table+" WHERE instance_id = ? AND tenant_id = ?", instanceID, tenantID)
	}
	b.add("UPDATE sso_sessions SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL AND instance_id = ? AND tenant_id = ?",
		s.now(), SSOEndKitChange, instanceID, tenantID)
	if err := s.runBatch(ctx, b); err != nil {
		return fmt.Errorf("store: deleting kit tenant: %w", err)
	}
	return nil
}

// UpsertKitApp stores an application credential (applicationSync add or modify).
func (s *Store) UpsertKitApp(ctx context.Context, a KitApp) error {
	now := s.now()
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO kit_applications (instance_id, tenant_id, app_id, client_id, client_secret, test_flag, sync_time, created_at, updated_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON DUPLICATE KEY UPDATE client_id = VALUES(client_id), client_secret = VALUES(client_secret),
		   test_flag = VALUES(test_flag), sync_time = VALUES(sync_time), updated_at = VALUES(updated_at)`,
		a.InstanceID, a.TenantID, a.AppID, a.ClientID, a.SealedSecret, a.TestFlag, a.SyncTime, now, now)
	if err != nil {
		return fmt.Errorf("store: saving kit application: %w", err)
	}
	return nil
}

// DeleteKitApp removes an application credential and the users authorised for it.
func (s *Store) DeleteKitApp(ctx context.Context, instanceID, tenantID, appID string) error {
	b := s.newBatch()
	for _, table := range []string{"kit_users", "kit_applications"} {
		b.add("DELETE FROM "+table+" WHERE instance_id = ? AND tenant_id = ? AND app_id = ?", instanceID, tenantID, appID)
	}
	if err := s.runBatch(ctx, b); err != nil {
		return fmt.Errorf("store: deleting kit application: %w", err)
	}
	return nil
}

// KitApp returns one stored application credential.
func (s *Store) KitApp(ctx context.Context, instanceID, tenantID, appID string) (KitApp, error) {
	var a KitApp
	err := s.db.GetContext(ctx, &a,
		`SELECT instance_id, tenant_id, app_id, client_id, client_secret, test_flag, sync_time
		 FROM kit_applications WHERE instance_id = ? AND tenant_id = ? AND app_id = ?`, instanceID, tenantID, appID)
	if errors.Is(err, sql.ErrNoRows) {
		return KitApp{}, ErrNotFound
	}
	if err != nil {
		return KitApp{}, fmt.Errorf("store: reading kit application: %w", err)
	}
	return a, nil
}

// KitUserChange selects how UpsertKitUsers treats existing users.
type KitUserChange int

const (
	// KitUsersAdd (authSync flag 1) stores the users and (re)authorises them.
	KitUsersAdd KitUserChange = iota
	// KitUsersModify (flag 2) updates the users' details and leaves their authorisation
	// as it is; users not stored yet are created authorised.
	KitUsersModify
)

const kitUserCols = "instance_id, tenant_id, app_id, user_name, name, org_code, position, employee_code, employee_type, role, " +
	"enabled, authorized, mobile, email, work_place, entry_date, test_flag, sync_time, created_at, updated_at"

// UpsertKitUsers stores a batch of users of one (instance, tenant, app) in one
// transaction: all of them or none.
func (s *Store) UpsertKitUsers(ctx context.Context, users []KitUser, change KitUserChange) error {
	if len(users) == 0 {
		return nil
	}
	users = append([]KitUser(nil), users...)
	// One lock order for every batch keeps concurrent duplicates from deadlocking.
	sort.Slice(users, func(i, j int) bool { return kitUserKey(users[i]) < kitUserKey(users[j]) })
	update := "name = VALUES(name), org_code = VALUES(org_code), position = VALUES(position), " +
		"employee_code = VALUES(employee_code), employee_type = VALUES(employee_type), role = VALUES(role), " +
		"enabled = VALUES(enabled), mobile = VALUES(mobile), email = VALUES(email), work_place = VALUES(work_place), " +
		"entry_date = VALUES(entry_date), test_flag = VALUES(test_flag), sync_time = VALUES(sync_time), updated_at = VALUES(updated_at)"
	if change == KitUsersAdd {
		update += ", authorized = 1"
	}
	now := s.now()
	b := s.newBatch()
	b.addList("INSERT INTO kit_users ("+kitUserCols+") VALUES ", nil, placeholders(20), " ON DUPLICATE KEY UPDATE "+update,
		len(users), func(i int) []any {
			u := users[i]
			return []any{u.InstanceID, u.TenantID, u.AppID, u.UserName, u.Name, u.OrgCode, u.Position,
				u.EmployeeCode, u.EmployeeType, u.Role, u.Enabled, true, u.Mobile, u.Email, u.WorkPlace, u.EntryDate,
				u.TestFlag, u.SyncTime, now, now}
		})
	// A disabled user's sessions end with the change, so enabling the user again
	// later does not bring them back.
	var disabled []KitUser
	for _, u := range users {
		if !u.Enabled {
			disabled = append(disabled, u)
		}
	}
	if len(disabled) > 0 {
		b.addList("UPDATE sso_sessions SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL AND (instance_id, tenant_id, app_id, user_name) IN (",
			[]any{now, SSOEndKitChange}, "(?,?,?,?)", ")", len(disabled), func(i int) []any {
				u := disabled[i]
				return []any{u.InstanceID, u.TenantID, u.AppID, u.UserName}
			})
	}
	if err := s.runBatch(ctx, b); err != nil {
		return fmt.Errorf("store: saving kit users: %w", err)
	}
	return nil
}

func kitUserKey(u KitUser) string {
	return u.InstanceID + "\x00" + u.TenantID + "\x00" + u.AppID + "\x00" + u.UserName
}

// DeleteKitUsers removes users of one (instance, tenant, app) and ends their
// unified-login sessions; missing ones are ignored.
func (s *Store) DeleteKitUsers(ctx context.Context, instanceID, tenantID, appID string, userNames []string) error {
	return s.kitUsersByName(ctx, "DELETE FROM kit_users", nil, instanceID, tenantID, appID, userNames)
}

// RevokeKitUsers withdraws the authorisation of users (authSync flag 3), keeps
// their record and ends their unified-login sessions, so a later authorisation
// does not bring an old session back; users not stored are ignored.
func (s *Store) RevokeKitUsers(ctx context.Context, instanceID, tenantID, appID string, userNames []string) error {
	return s.kitUsersByName(ctx, "UPDATE kit_users SET authorized = 0, updated_at = ?", []any{s.now()}, instanceID, tenantID, appID, userNames)
}

// kitUsersByName runs head (with its arguments headArgs) on the named users of
// one (instance, tenant, app), and ends their sessions in the same transaction.
func (s *Store) kitUsersByName(ctx context.Context, head string, headArgs []any, instanceID, tenantID, appID string, userNames []string) error {
	if len(userNames) == 0 {
		return nil
	}
	names := append([]string(nil), userNames...)
	sort.Strings(names)
	byName := func(i int) []any { return []any{names[i]} }
	b := s.newBatch()
	b.addList(head+" WHERE instance_id = ? AND tenant_id = ? AND app_id = ? AND user_name IN (",
		append(headArgs, instanceID, tenantID, appID), "?", ")", len(names), byName)
	b.addList("UPDATE sso_sessions SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL AND instance_id = ? AND tenant_id = ? AND app_id = ? AND user_name IN (",
		[]any{s.now(), SSOEndKitChange, instanceID, tenantID, appID}, "?", ")", len(names), byName)
	if err := s.runBatch(ctx, b); err != nil {
		return fmt.Errorf("store: changing kit users: %w", err)
	}
	return nil
}

// KitUser returns one stored user.
func (s *Store) KitUser(ctx context.Context, instanceID, tenantID, appID, userName string) (KitUser, error) {
	var u KitUser
	err := s.db.GetContext(ctx, &u,
		"SELECT instance_id, tenant_id, app_id, user_name, name, org_code, position, employee_code, employee_type, role, "+
			"enabled, authorized, mobile, email, work_place, entry_date, test_flag, sync_time "+
			"FROM kit_users WHERE instance_id = ? AND tenant_id = ? AND app_id = ? AND user_name = ?",
		instanceID, tenantID, appID, userName)
	if errors.Is(err, sql.ErrNoRows) {
		return KitUser{}, ErrNotFound
	}
	if err != nil {
		return KitUser{}, fmt.Errorf("store: reading kit user: %w", err)
	}
	return u, nil
}

// UpsertKitOrgs stores departments (singleOrgSync add/modify, allOrgSync) in one
// transaction. A full sync only adds and updates: departments missing from the list
// are kept, since the protocol does not say they were deleted.
func (s *Store) UpsertKitOrgs(ctx context.Context, orgs []KitOrg) error {
	if len(orgs) == 0 {
		return nil
	}
	orgs = append([]KitOrg(nil), orgs...)
	sort.Slice(orgs, func(i, j int) bool {
		a, b := orgs[i], orgs[j]
		return a.InstanceID+"\x00"+a.TenantID+"\x00"+a.OrgCode < b.InstanceID+"\x00"+b.TenantID+"\x00"+b.OrgCode
	})
	now := s.now()
	b := s.newBatch()
	b.addList("INSERT INTO kit_orgs (instance_id, tenant_id, org_code, org_name, parent_code, test_flag, sync_time, created_at, updated_at) VALUES ",
		nil, placeholders(9),
		" ON DUPLICATE KEY UPDATE org_name = VALUES(org_name), parent_code = VALUES(parent_code), "+
			"test_flag = VALUES(test_flag), sync_time = VALUES(sync_time), updated_at = VALUES(updated_at)",
		len(orgs), func(i int) []any {
			o := orgs[i]
			return []any{o.InstanceID, o.TenantID, o.OrgCode, o.OrgName, o.ParentCode, o.TestFlag, o.SyncTime, now, now}
		})
	if err := s.runBatch(ctx, b); err != nil {
		return fmt.Errorf("store: saving kit departments: %w", err)
	}
	return nil
}

// DeleteKitOrg removes one department; a missing one is ignored.
func (s *Store) DeleteKitOrg(ctx context.Context, instanceID, tenantID, orgCode string) error {
	_, err := s.db.ExecContext(ctx, "DELETE FROM kit_orgs WHERE instance_id = ? AND tenant_id = ? AND org_code = ?",
		instanceID, tenantID, orgCode)
	if err != nil {
		return fmt.Errorf("store: deleting kit department: %w", err)
	}
	return nil
}

// KitLogin is what the unified login needs for one tenant and application: the
// tenant's auth-centre domain and the application's client credential.
type KitLogin struct {
	InstanceID   string `db:"instance_id"`
	TenantID     string `db:"tenant_id"`
	TenantCode   string `db:"tenant_code"`
	TenantName   string `db:"name"`
	DomainName   string `db:"domain_name"`
	AppID        string `db:"app_id"`
	ClientID     string `db:"client_id"`
	SealedSecret string `db:"client_secret"`
}

// KitLoginTarget finds the tenant (by tenant ID, else by tenant code) that has a
// credential for appID, preferring the most recently synced credential when the
// tenant bought several instances. ErrNotFound: no such tenant with that app.
func (s *Store) KitLoginTarget(ctx context.Context, tenant, appID string) (KitLogin, error) {
	const q = `SELECT a.instance_id, a.tenant_id, t.tenant_code, t.name, t.domain_name, a.app_id, a.client_id, a.client_secret
		FROM kit_applications a JOIN kit_tenants t ON t.instance_id = a.instance_id AND t.tenant_id = a.tenant_id
		WHERE a.app_id = ? AND %s ORDER BY a.updated_at DESC, a.instance_id DESC LIMIT 1`
	var k KitLogin
	err := s.db.GetContext(ctx, &k, fmt.Sprintf(q, "a.tenant_id = ?"), appID, tenant)
	if errors.Is(err, sql.ErrNoRows) {
		err = s.db.GetContext(ctx, &k, fmt.Sprintf(q, "t.tenant_code = ?"), appID, tenant)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return KitLogin{}, ErrNotFound
	}
	if err != nil {
		return KitLogin{}, fmt.Errorf("store: reading kit login target: %w", err)
	}
	return k, nil
}
