/**
 * How to sign in to the UI of a kept run.
 *  - Airflow 3: its simple auth manager writes each user's generated password into
 *    simple_auth_manager_passwords.json.generated in AIRFLOW_HOME when the API server starts.
 *  - Airflow 2.11: the webserver signs users in against its own user table, which starts empty:
 *    an `admin` user is made with a random password (as `airflow users create` does, but the
 *    password goes through stdin, never argv) and the password kept in a private file beside it.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writePrivateFile } from '../../io/private.js';
import { runFile } from '../../process.js';
import type { AirflowInstall } from '../runner.js';

const ADMIN = 'admin';

const ADMIN_PY = String.raw`
import sys, warnings
warnings.simplefilter("ignore")
password = sys.stdin.readline().rstrip("\n")
from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

with get_application_builder() as ab:
    user = ab.sm.find_user(username=sys.argv[1])
    if user is None:
        role = ab.sm.find_role("Admin")
        if not ab.sm.add_user(sys.argv[1], "Sandbox", "Admin", sys.argv[1] + "@sandbox.invalid", role, password):
            raise SystemExit("could not create the user")
    else:
        ab.sm.reset_password(user.id, password)
`;

export async function signInFor(airflow: AirflowInstall, home: string, env: NodeJS.ProcessEnv): Promise<string> {
  if (airflow.major === '3')
    return `sign in with a user and password from ${join(home, 'simple_auth_manager_passwords.json.generated')}`;
  const password = randomBytes(18).toString('base64url');
  const file = join(home, 'webserver-admin-password');
  writePrivateFile(file, `${password}\n`);
  const r = await runFile(airflow.python, ['-c', ADMIN_PY, ADMIN], { env, input: `${password}\n`, timeoutMs: 120_000 });
  if (r.code !== 0) {
    const why = (r.stderr + r.stdout).trim().split('\n').slice(-1)[0] ?? '';
    return `no user could be made for it (${why.slice(0, 200)}): airflow users create makes one`;
  }
  return `sign in as ${ADMIN} with the password in ${file}`;
}
