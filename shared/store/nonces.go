package store

import (
	"context"
	"fmt"
	"github.com/kgseller/kgseller/shared/marketplace"
	"time"
)

// RememberNonce records the nonce of a verified request; a second use within its
// lifetime returns marketplace.ErrReplay. Only verified requests reach it, so forged
// traffic cannot grow the table. With purge > 0 it first deletes up to purge
// expired nonces, in the same round trip: the chore costs the request no round
// trip of its own. The deletion comes first so that, should it fail, the nonce is
// not stored and the failed request's retry is not taken for a replay.
func (s *Store) RememberNonce(ctx context.Context, scope, nonce string, expires time.Time, purge int) error {
	b := s.newBatch()
	if purge > 0 {
		b.add(purgeNonces, s.now(), purge)
	}
	b.add("INSERT INTO nonces (scope, nonce, expires_at) VALUES (?, ?, ?)", scope, nonce, dbTime(expires))
	_, err := s.sendBatch(ctx, [][]statement{b.stmts}, false, nil)
	if IsDuplicate(err) {
		return marketplace.ErrReplay
	}
	if err != nil {
		return fmt.Errorf("store: remembering nonce: %w", err)
	}
	return nil
}

const purgeNonces = "DELETE FROM nonces WHERE expires_at < ? ORDER BY expires_at LIMIT ?"

// ForgetNonce releases a nonce remembered for a request whose operation failed, so
// that the marketplace's retry of that request is not taken for a replay.
func (s *Store) ForgetNonce(ctx context.Context, scope, nonce string) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM nonces WHERE scope = ? AND nonce = ?", scope, nonce); err != nil {
		return fmt.Errorf("store: releasing nonce: %w", err)
	}
	return nil
}

// PurgeNonces deletes up to limit nonces that expired before now and reports how many.
func (s *Store) PurgeNonces(ctx context.Context, limit int) (int64, error) {
	res, err := s.db.ExecContext(ctx, purgeNonces, s.now(), limit)
	if err != nil {
		return 0, fmt.Errorf("store: purging nonces: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
