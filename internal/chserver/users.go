package chserver

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// defaultUser is the default user as clickhouse-local has it, allowed to
// manage access, and the default profile and quota it names.
var defaultUser = map[string]string{
	"<profiles>": "<profiles>\n    <default/>",
	"<users>": `<users>
    <default>
      <password></password>
      <networks><ip>::/0</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <access_management>1</access_management>
    </default>`,
	"<quotas>": "<quotas>\n    <default/>",
}

// usersConfig points the server at users.xml beside it. Seen with chDB
// 26.7: users given in the config file itself are not loaded, a users
// file named by user_directories is.
const usersConfig = `
  <user_directories><users_xml><path>users.xml</path></users_xml></user_directories>`

// logsConfig keeps the logs that say where the server's CPU went: each
// query's (with the materialized views it fed) and each part's (merges),
// flushed every second. clickhouse-local keeps none unless configured.
const logsConfig = `
  <query_log><database>system</database><table>query_log</table><flush_interval_milliseconds>1000</flush_interval_milliseconds></query_log>
  <query_views_log><database>system</database><table>query_views_log</table><flush_interval_milliseconds>1000</flush_interval_milliseconds></query_views_log>
  <part_log><database>system</database><table>part_log</table><flush_interval_milliseconds>1000</flush_interval_milliseconds></part_log>`

// usersFile is the users file of a server started with users (a
// <clickhouse> document with profiles, roles, users and quotas sections):
// users with the default user spliced in.
func usersFile(users []byte) ([]byte, error) {
	out := string(users)
	for section, with := range defaultUser {
		if strings.Count(out, section) != 1 {
			return nil, fmt.Errorf("chserver: the users file must have one %s section", section)
		}
		out = strings.Replace(out, section, with, 1)
	}
	return []byte(out), nil
}

// writeConfig writes the config file (and the users file it names) of a
// server with users or query logs into dir, or removes those an earlier
// start wrote when it has neither.
func writeConfig(dir string, users []byte, logs bool) error {
	cfg, usersPath := filepath.Join(dir, "config.xml"), filepath.Join(dir, "users.xml")
	if users == nil {
		os.Remove(usersPath)
	}
	if users == nil && !logs {
		if err := os.Remove(cfg); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	main := "<clickhouse>"
	if users != nil {
		file, err := usersFile(users)
		if err != nil {
			return err
		}
		if err := os.WriteFile(usersPath, file, 0o600); err != nil {
			return err
		}
		main += usersConfig
	}
	if logs {
		main += logsConfig
	}
	return os.WriteFile(cfg, []byte(main+"\n</clickhouse>\n"), 0o600)
}
