package a

// Rows is shaped like clickhouse-go's driver.Rows.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Iter has a Next but is no result set.
type Iter struct{}

func (Iter) Next() bool { return false }

func query() Rows { return nil }

func unchecked() {
	rows := query()
	defer rows.Close()
	for rows.Next() { // want `rows.Next\(\) without rows.Err\(\)`
		var n int
		rows.Scan(&n)
	}
}

func checked() error {
	rows := query()
	defer rows.Close()
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return err
		}
	}
	return rows.Err()
}

func checkedInClosure() error {
	rows := query()
	for rows.Next() {
	}
	check := func() error { return rows.Err() }
	return check()
}

func notRows(it Iter) {
	for it.Next() {
	}
}
