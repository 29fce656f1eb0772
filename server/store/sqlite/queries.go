package sqlite

// The statements a Tx runs, each on its transaction's connection: a pool's
// connections can all be held by transactions (the writer has just one), so
// nothing may go through the pool while a transaction runs.
const (
	qTicket      = `SELECT owner, description FROM tickets WHERE id = ?`
	qRelations   = `SELECT related_id FROM relations WHERE ticket_id = ? ORDER BY pos`
	qAddRelation = `INSERT INTO relations (ticket_id, related_id, pos)
VALUES (?1, ?2, (SELECT COALESCE(MAX(pos), 0) + 1 FROM relations WHERE ticket_id = ?1))`
	qRemovePair = `DELETE FROM relations
WHERE (ticket_id = ?1 AND related_id = ?2) OR (ticket_id = ?2 AND related_id = ?1)`
	qUser       = `SELECT domain_id FROM users WHERE name = ?`
	qUserGroups = `SELECT group_name FROM user_groups WHERE user_name = ? ORDER BY pos`
	qUserTokens = `SELECT token FROM tokens WHERE user_name = ? ORDER BY pos`
	qUserKeys   = `SELECT ak, sk, security_token FROM access_keys WHERE user_name = ? ORDER BY pos`
	qTokenOwner = `SELECT user_name FROM tokens WHERE token = ? ORDER BY user_name, pos LIMIT 1`
	qKeyOwner   = `SELECT user_name FROM access_keys WHERE ak = ? ORDER BY user_name, pos LIMIT 1`
	qTokenTaken = `SELECT EXISTS (SELECT 1 FROM tokens WHERE token = ? AND user_name <> ?)`
	qKeyTaken   = `SELECT EXISTS (SELECT 1 FROM access_keys WHERE ak = ? AND user_name <> ?)`
	qUpsertUser = `INSERT INTO users (name, domain_id) VALUES (?1, ?2)
ON CONFLICT (name) DO UPDATE SET domain_id = excluded.domain_id`
	qDeleteUserGroups = `DELETE FROM user_groups WHERE user_name = ?`
	qDeleteUserTokens = `DELETE FROM tokens WHERE user_name = ?`
	qDeleteUserKeys   = `DELETE FROM access_keys WHERE user_name = ?`
	qInsertGroup      = `INSERT INTO user_groups (user_name, pos, group_name) VALUES (?, ?, ?)`
	qInsertToken      = `INSERT INTO tokens (user_name, pos, token) VALUES (?, ?, ?)`
	qInsertKey        = `INSERT INTO access_keys (user_name, pos, ak, sk, security_token) VALUES (?, ?, ?, ?, ?)`
	qInsertTicket     = `INSERT INTO tickets (id, owner, description) VALUES (?, ?, ?)`
	qAllUsers         = `SELECT name FROM users`
	qAllTickets       = `SELECT id FROM tickets`
	qEmpty            = `SELECT NOT EXISTS (SELECT 1 FROM users) AND NOT EXISTS (SELECT 1 FROM tickets)`
	qResetRelations   = `DELETE FROM relations`
	qResetTickets     = `DELETE FROM tickets`
	qResetKeys        = `DELETE FROM access_keys`
	qResetTokens      = `DELETE FROM tokens`
	qResetGroups      = `DELETE FROM user_groups`
	qResetUsers       = `DELETE FROM users`
)
