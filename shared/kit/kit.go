// Package kit implements the joint-operation (联营) SaaS Kit sync interfaces
// (docs/protocol.md#kit): tenantSync, applicationSync, authSync,
// singleOrgSync and allOrgSync, each a POST to its own fixed sub-path, verified by
// the x-sign headers with the Kit key (shared/endpoint does that). The decoders
// here validate a verified body and return the operation; the operations write
// through unique keys, so repeated adds create nothing new, repeated deletes
// succeed, and no operation ever checks that the instance exists.
package kit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kgseller/kgseller/shared/endpoint"
	"github.com/kgseller/kgseller/shared/kit/clientsecret"
	"github.com/kgseller/kgseller/shared/marketplace"
	"github.com/kgseller/kgseller/shared/reqbody"
	"github.com/kgseller/kgseller/shared/secretbox"
	"github.com/kgseller/kgseller/shared/store"
)

// Service holds what the Kit operations need. Secrets and Box are only needed by
// applicationSync.
type Service struct {
	Store   *store.Store
	Secrets *clientsecret.Decrypter // decrypts clientSecret (RSA-OAEP)
	Box     *secretbox.Box          // seals it for storage (KG_DATA_KEY)
}

// success is the answer of every successful Kit call, as documented.
func success() marketplace.Reply { return marketplace.NewResult(marketplace.Success, "Success") }

// op is a decoded Kit call.
type op struct {
	name string
	run  func(ctx context.Context) error
}

func (o *op) Name() string { return o.name }

func (o *op) Run(ctx context.Context) (marketplace.Reply, error) {
	if err := o.run(ctx); err != nil {
		return nil, err
	}
	return success(), nil
}

func newOp(iface string, f Flag, run func(ctx context.Context) error) endpoint.Operation {
	return &op{name: iface + "/" + f.String(), run: run}
}

// DecodeTenantSync reads POST /produceAPI/v2/tenantSync.
func (s *Service) DecodeTenantSync(body []byte) (endpoint.Operation, error) {
	o, err := reqbody.Parse(body)
	if err != nil {
		return nil, err
	}
	c, err := readCommon(o)
	if err != nil {
		return nil, err
	}
	flag, err := readFlag(o, FlagDelete, FlagAdd, FlagModify)
	if err != nil {
		return nil, err
	}
	orderID, err := o.ID("orderId", lenID, false)
	if err != nil {
		return nil, err
	}
	if flag == FlagDelete {
		return newOp("tenantSync", flag, func(ctx context.Context) error {
			return s.Store.DeleteKitTenant(ctx, c.instanceID, c.tenantID)
		}), nil
	}
	t := store.KitTenant{InstanceID: c.instanceID, TenantID: c.tenantID, OrderID: orderID, TestFlag: c.test, SyncTime: c.syncTime}
	if t.TenantCode, err = o.ID("tenantCode", lenID, true); err != nil {
		return nil, err
	}
	if t.Name, err = name(o, "name", lenTenantName, true); err != nil {
		return nil, err
	}
	domain, err := o.String("domainName", lenDomain, true)
	if err != nil {
		return nil, err
	}
	if t.DomainName, err = DomainName(domain); err != nil {
		return nil, err
	}
	if flag == FlagModify {
		return newOp("tenantSync", flag, func(ctx context.Context) error { return s.Store.ModifyKitTenant(ctx, t) }), nil
	}
	return newOp("tenantSync", flag, func(ctx context.Context) error { return s.Store.UpsertKitTenant(ctx, t) }), nil
}

// DecodeApplicationSync reads POST /produceAPI/v2/applicationSync. The clientSecret
// is decrypted and sealed here, before anything is stored: one that does not
// decrypt is a bad parameter (000002) and leaves no trace.
func (s *Service) DecodeApplicationSync(body []byte) (endpoint.Operation, error) {
	o, err := reqbody.Parse(body)
	if err != nil {
		return nil, err
	}
	c, err := readCommon(o)
	if err != nil {
		return nil, err
	}
	flag, err := readFlag(o, FlagDelete, FlagAdd, FlagModify)
	if err != nil {
		return nil, err
	}
	appID, err := o.ID("appId", lenID, true)
	if err != nil {
		return nil, err
	}
	if flag == FlagDelete {
		return newOp("applicationSync", flag, func(ctx context.Context) error {
			return s.Store.DeleteKitApp(ctx, c.instanceID, c.tenantID, appID)
		}), nil
	}
	a := store.KitApp{InstanceID: c.instanceID, TenantID: c.tenantID, AppID: appID, TestFlag: c.test, SyncTime: c.syncTime}
	if a.ClientID, err = o.ID("clientId", lenID, true); err != nil {
		return nil, err
	}
	cipherText, err := o.String("clientSecret", lenSecret, true)
	if err != nil {
		return nil, err
	}
	if s.Secrets == nil || s.Box == nil {
		return nil, errors.New("kit: applicationSync has no RSA key or data key")
	}
	plain, err := s.Secrets.Decrypt(cipherText)
	if err != nil {
		return nil, bad("%v", err)
	}
	if plain == "" {
		return nil, bad("clientSecret decrypts to an empty value")
	}
	if a.SealedSecret, err = s.Box.Seal(plain, marketplace.KitSecretContext(a.InstanceID, a.TenantID, a.AppID)); err != nil {
		return nil, fmt.Errorf("kit: sealing clientSecret: %w", err)
	}
	return newOp("applicationSync", flag, func(ctx context.Context) error { return s.Store.UpsertKitApp(ctx, a) }), nil
}

// DecodeAuthSync reads POST /produceAPI/v2/authSync: up to MaxUsers users, as a
// JSON array (V2) or a string holding one (V1), with the optional fields either
// top-level (V2) or under "extension" (V1).
func (s *Service) DecodeAuthSync(body []byte) (endpoint.Operation, error) {
	o, err := reqbody.Parse(body)
	if err != nil {
		return nil, err
	}
	c, err := readCommon(o)
	if err != nil {
		return nil, err
	}
	flag, err := readFlag(o, FlagDelete, FlagAdd, FlagModify, FlagRevoke)
	if err != nil {
		return nil, err
	}
	appID, err := o.ID("appId", lenID, true)
	if err != nil {
		return nil, err
	}
	current, err := text(o, "currentSyncTime", lenTimeStamp)
	if err != nil {
		return nil, err
	}
	if current != "" {
		c.syncTime = current
	}
	list, present, err := objectList(o, "userList", MaxUsers)
	if err != nil {
		return nil, err
	}
	if !present {
		return nil, bad("userList is required")
	}
	keyOnly := flag == FlagDelete || flag == FlagRevoke
	users := make([]store.KitUser, 0, len(list))
	index := map[string]int{}
	for i, item := range list {
		u, err := decodeUser(item, keyOnly, i)
		if err != nil {
			return nil, err
		}
		u.InstanceID, u.TenantID, u.AppID, u.TestFlag, u.SyncTime = c.instanceID, c.tenantID, appID, c.test, c.syncTime
		// A user listed twice keeps its last entry, as a repeated JSON key would.
		if at, dup := index[u.UserName]; dup {
			users[at] = u
			continue
		}
		index[u.UserName] = len(users)
		users = append(users, u)
	}
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.UserName
	}
	run := func(ctx context.Context) error {
		switch flag {
		case FlagDelete:
			return s.Store.DeleteKitUsers(ctx, c.instanceID, c.tenantID, appID, names)
		case FlagRevoke:
			return s.Store.RevokeKitUsers(ctx, c.instanceID, c.tenantID, appID, names)
		case FlagModify:
			return s.Store.UpsertKitUsers(ctx, users, store.KitUsersModify)
		}
		return s.Store.UpsertKitUsers(ctx, users, store.KitUsersAdd)
	}
	return newOp("authSync", flag, run), nil
}

func decodeUser(u reqbody.Object, keyOnly bool, i int) (store.KitUser, error) {
	var out store.KitUser
	var err error
	wrap := func(err error) error {
		var me *marketplace.Error
		if errors.As(err, &me) {
			return marketplace.Errorf(me.Code, "%s (userList[%d])", me.Msg, i)
		}
		return err
	}
	if out.UserName, err = u.ID("userName", lenUserName, true); err != nil {
		return out, wrap(err)
	}
	if keyOnly {
		return out, nil
	}
	req := []struct {
		dst      *string
		field    string
		max      int
		required bool
		id       bool
	}{
		{&out.Name, "name", lenName, true, false},
		{&out.OrgCode, "orgCode", lenID, true, true},
		{&out.Role, "role", lenRole, true, true},
		{&out.Position, "position", lenName, false, false},
		{&out.EmployeeCode, "employeeCode", lenID, false, true},
		{&out.Mobile, "mobile", lenMobile, false, true},
		{&out.Email, "email", lenEmail, false, true},
	}
	for _, f := range req {
		if f.id {
			*f.dst, err = u.ID(f.field, f.max, f.required)
		} else {
			*f.dst, err = name(u, f.field, f.max, f.required)
		}
		if err != nil {
			return out, wrap(err)
		}
	}
	if out.Enabled, err = boolText(u, "enable", true); err != nil {
		return out, wrap(err)
	}
	// V1 nests these under "extension"; the top-level V2 field wins when both exist.
	ext, err := u.Object("extension", false)
	if err != nil {
		return out, wrap(err)
	}
	from := func(field string) reqbody.Object {
		if u.Has(field) || ext == nil {
			return u
		}
		return ext
	}
	if out.WorkPlace, err = name(from("workPlace"), "workPlace", lenWorkPlace, false); err != nil {
		return out, wrap(err)
	}
	if out.EntryDate, err = text(from("entryDate"), "entryDate", lenEntryDate); err != nil {
		return out, wrap(err)
	}
	n, ok, err := from("employeeType").Int("employeeType", false)
	if err != nil {
		return out, wrap(err)
	}
	if ok {
		if n < 0 || n > 1<<20 {
			return out, wrap(bad("employeeType is out of range"))
		}
		out.EmployeeType = sql.NullInt64{Int64: n, Valid: true}
	}
	return out, nil
}

// DecodeSingleOrgSync reads POST /produceAPI/v2/singleOrgSync.
func (s *Service) DecodeSingleOrgSync(body []byte) (endpoint.Operation, error) {
	o, err := reqbody.Parse(body)
	if err != nil {
		return nil, err
	}
	c, err := readCommon(o)
	if err != nil {
		return nil, err
	}
	flag, err := readFlag(o, FlagDelete, FlagAdd, FlagModify)
	if err != nil {
		return nil, err
	}
	org, err := decodeOrg(o, flag == FlagDelete, -1)
	if err != nil {
		return nil, err
	}
	if flag == FlagDelete {
		return newOp("singleOrgSync", flag, func(ctx context.Context) error {
			return s.Store.DeleteKitOrg(ctx, c.instanceID, c.tenantID, org.OrgCode)
		}), nil
	}
	org.InstanceID, org.TenantID, org.TestFlag, org.SyncTime = c.instanceID, c.tenantID, c.test, c.syncTime
	return newOp("singleOrgSync", flag, func(ctx context.Context) error {
		return s.Store.UpsertKitOrgs(ctx, []store.KitOrg{org})
	}), nil
}

// DecodeAllOrgSync reads POST /produceAPI/v2/allOrgSync: every department of the
// tenant in orgInfoList (V2: an array, a JSON string or a string with unquoted keys)
// or orgInfo (V1: a string whose items name the department "name").
func (s *Service) DecodeAllOrgSync(body []byte) (endpoint.Operation, error) {
	o, err := reqbody.Parse(body)
	if err != nil {
		return nil, err
	}
	c, err := readCommon(o)
	if err != nil {
		return nil, err
	}
	field := "orgInfoList"
	if !o.Has(field) && o.Has("orgInfo") {
		field = "orgInfo"
	}
	list, present, err := objectList(o, field, MaxOrgs)
	if err != nil {
		return nil, err
	}
	if !present {
		return nil, bad("orgInfoList is required")
	}
	orgs := make([]store.KitOrg, 0, len(list))
	index := map[string]int{}
	for i, item := range list {
		org, err := decodeOrg(item, false, i)
		if err != nil {
			return nil, err
		}
		org.InstanceID, org.TenantID, org.TestFlag, org.SyncTime = c.instanceID, c.tenantID, c.test, c.syncTime
		if at, dup := index[org.OrgCode]; dup {
			orgs[at] = org
			continue
		}
		index[org.OrgCode] = len(orgs)
		orgs = append(orgs, org)
	}
	return newOp("allOrgSync", FlagAdd, func(ctx context.Context) error { return s.Store.UpsertKitOrgs(ctx, orgs) }), nil
}

// decodeOrg reads one department; V1 calls its name "name" instead of "orgName".
func decodeOrg(o reqbody.Object, keyOnly bool, i int) (store.KitOrg, error) {
	var org store.KitOrg
	var err error
	wrap := func(err error) error {
		var me *marketplace.Error
		if i >= 0 && errors.As(err, &me) {
			return marketplace.Errorf(me.Code, "%s (item %d)", me.Msg, i)
		}
		return err
	}
	if org.OrgCode, err = o.ID("orgCode", lenID, true); err != nil {
		return org, wrap(err)
	}
	if keyOnly {
		return org, nil
	}
	nameField := "orgName"
	if !o.Has(nameField) && o.Has("name") {
		nameField = "name"
	}
	if org.OrgName, err = name(o, nameField, lenOrgName, true); err != nil {
		if !o.Has("orgName") && !o.Has("name") {
			return org, wrap(bad("orgName is required"))
		}
		return org, wrap(err)
	}
	if org.ParentCode, err = o.ID("parentCode", lenID, false); err != nil {
		return org, wrap(err)
	}
	return org, nil
}
