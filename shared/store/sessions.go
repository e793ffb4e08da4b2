package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Unified-login sessions. The caller passes the session's key (a hash of the ID the
// cookie carries), never the ID itself.

// SSOSession is what a session row names: whose session it is.
type SSOSession struct {
	InstanceID string
	TenantID   string
	AppID      string
	UserName   string
}

// SSOSessionUser is a valid session with its user as the Kit data has it now.
type SSOSessionUser struct {
	InstanceID string    `db:"instance_id"`
	TenantID   string    `db:"tenant_id"`
	AppID      string    `db:"app_id"`
	UserName   string    `db:"user_name"`
	ExpiresAt  time.Time `db:"expires_at"`
	Name       string    `db:"name"`
	Role       string    `db:"role"`
	OrgCode    string    `db:"org_code"`
	TenantName string    `db:"tenant_name"`
}

// Reasons a session ended, as end_reason records them.
const (
	SSOEndLogout   = "logout"
	SSOEndReplaced = "replaced" // the browser signed in again
	SSOEndRefused  = "refused"  // presented while its user or tenant was not allowed
	// SSOEndKitChange: authSync revoked, disabled or deleted the user, or tenantSync
	// deleted the tenant.
	SSOEndKitChange = "kit-change"
)

// CreateSSOSession stores a new session valid for ttl.
func (s *Store) CreateSSOSession(ctx context.Context, key string, sess SSOSession, ttl time.Duration) error {
	now := s.now()
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO sso_sessions (id_hash, instance_id, tenant_id, app_id, user_name, created_at, expires_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`,
		key, sess.InstanceID, sess.TenantID, sess.AppID, sess.UserName, now, now.Add(ttl))
	if err != nil {
		return fmt.Errorf("store: creating sso session: %w", err)
	}
	return nil
}

// ValidSSOSession returns the session and its user in one query when the session is
// neither ended nor expired, its user is authorised and enabled, and neither the
// user nor the tenant was deleted since sign-in (a user or tenant synced again is
// a newer row, which an older session does not match). ErrNotFound otherwise.
func (s *Store) ValidSSOSession(ctx context.Context, key string) (SSOSessionUser, error) {
	var u SSOSessionUser
	err := s.db.GetContext(ctx, &u,
		`SELECT s.instance_id, s.tenant_id, s.app_id, s.user_name, s.expires_at, u.name, u.role, u.org_code, t.name AS tenant_name
		 FROM sso_sessions s
		 JOIN kit_users u ON u.instance_id = s.instance_id AND u.tenant_id = s.tenant_id AND u.app_id = s.app_id AND u.user_name = s.user_name
		 JOIN kit_tenants t ON t.instance_id = s.instance_id AND t.tenant_id = s.tenant_id
		 WHERE s.id_hash = ? AND s.ended_at IS NULL AND s.expires_at > ?
		   AND u.authorized = 1 AND u.enabled = 1 AND u.created_at <= s.created_at AND t.created_at <= s.created_at`,
		key, s.now())
	if errors.Is(err, sql.ErrNoRows) {
		return SSOSessionUser{}, ErrNotFound
	}
	if err != nil {
		return SSOSessionUser{}, fmt.Errorf("store: reading sso session: %w", err)
	}
	u.ExpiresAt = u.ExpiresAt.UTC()
	return u, nil
}

// EndSSOSession ends a session for good; ending one that is already ended or not
// there succeeds and keeps the first reason.
func (s *Store) EndSSOSession(ctx context.Context, key, reason string) error {
	_, err := s.db.ExecContext(ctx,
		"UPDATE sso_sessions SET ended_at = ?, end_reason = ? WHERE id_hash = ? AND ended_at IS NULL",
		s.now(), reason, key)
	if err != nil {
		return fmt.Errorf("store: ending sso session: %w", err)
	}
	return nil
}

// ExtendSSOSession moves the expiry of a session that is not ended to ttl from now
// (a session renewed with its refresh token).
func (s *Store) ExtendSSOSession(ctx context.Context, key string, ttl time.Duration) error {
	_, err := s.db.ExecContext(ctx,
		"UPDATE sso_sessions SET expires_at = ? WHERE id_hash = ? AND ended_at IS NULL",
		s.now().Add(ttl), key)
	if err != nil {
		return fmt.Errorf("store: extending sso session: %w", err)
	}
	return nil
}

// PurgeSSOSessions deletes up to limit sessions that expired before now, ended or
// not, and reports how many.
func (s *Store) PurgeSSOSessions(ctx context.Context, limit int) (int64, error) {
	res, err := s.db.ExecContext(ctx,
		"DELETE FROM sso_sessions WHERE expires_at < ? ORDER BY expires_at LIMIT ?", s.now(), limit)
	if err != nil {
		return 0, fmt.Errorf("store: purging sso sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
