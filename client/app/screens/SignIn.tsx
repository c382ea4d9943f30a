/** Sign in: tenant, user, password. Needs the network once; after that the app opens offline. */
import { useState } from 'react'
import type { FormEvent } from 'react'
import type { DeviceDb } from '../../store/databases.js'
import { StoreError } from '../../store/errors.js'
import { signIn } from '../../store/session.js'
import type { Session } from '../../store/session.js'

const explain = (err: unknown): string => {
  if (err instanceof StoreError) {
    if (err.code === 'offline') return 'No connection to the server. Signing in needs the network once; after that the app works offline.'
    if (err.apiCode === 'bad-credentials') return 'Warehouse, user name or password is wrong.'
    return err.message
  }
  return err instanceof Error ? err.message : String(err)
}

export function SignInForm(props: {
  serverUrl: string
  fixed?: { tenant: string; username: string }
  submitLabel?: string
  onSession: (session: Session) => Promise<void>
}) {
  const [tenant, setTenant] = useState(props.fixed?.tenant ?? localStorage.getItem('qm:last-tenant') ?? '')
  const [username, setUsername] = useState(props.fixed?.username ?? '')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)

  const submit = (e: FormEvent) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    signIn(props.serverUrl, { tenant: tenant.trim(), username: username.trim(), password })
      .then(async (session) => {
        localStorage.setItem('qm:last-tenant', session.user.tenant)
        await props.onSession(session)
      })
      .catch((err: unknown) => setError(explain(err)))
      .finally(() => setBusy(false))
  }

  return (
    <form className="stack" onSubmit={submit}>
      {!props.fixed && (
        <label>
          Warehouse
          <input name="tenant" autoComplete="organization" autoCapitalize="none" required value={tenant} onChange={(e) => setTenant(e.target.value)} />
        </label>
      )}
      {!props.fixed && (
        <label>
          User name
          <input name="username" autoComplete="username" autoCapitalize="none" required value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
      )}
      <label>
        Password
        <input name="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      {error && <p className="error" role="alert">{error}</p>}
      <button className="primary big" type="submit" disabled={busy}>
        {busy ? 'Signing in…' : (props.submitLabel ?? 'Sign in')}
      </button>
    </form>
  )
}

export function SignIn({ serverUrl, device }: { serverUrl: string; device: DeviceDb }) {
  return (
    <main className="signin">
      <img src="/icons/icon.svg" alt="" width={72} height={72} />
      <h1>Quartermaster</h1>
      <p className="muted">Warehouse stock that keeps working when the Wi-Fi does not.</p>
      <SignInForm serverUrl={serverUrl} onSession={async (session) => {
          await device.sessions.put({ key: "current", session })
        }} />
    </main>
  )
}
