package sqlite

import "context"

// Pragmas reads PRAGMA name on a writer and on a reader connection.
func (s *Store) Pragmas(ctx context.Context, name string) (writer, reader string, err error) {
	if err = s.writer.QueryRowContext(ctx, "PRAGMA "+name).Scan(&writer); err != nil {
		return "", "", err
	}
	err = s.reader.QueryRowContext(ctx, "PRAGMA "+name).Scan(&reader)
	return writer, reader, err
}

// Migrate is migrate, for databases opened otherwise than by Open.
var Migrate = migrate
