/** The tenant's users (GET /users). Managing them is `qm user …` on the server for now. */
import { useEffect, useState } from 'react'
import type { UserJson } from '../../store/api.js'
import { StoreError } from '../../store/errors.js'
import { useStatus, useStore } from '../hooks.js'

export function UsersPanel() {
  const store = useStore()
  const online = useStatus().connection === 'online'
  const [users, setUsers] = useState<UserJson[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    if (!online) return
    store.api
      .users()
      .then(({ users }) => setUsers(users))
      .catch((err: unknown) => {
        if (!(err instanceof StoreError)) throw err
        setError(err.message)
      })
  }, [store, online])
  return (
    <div>
      <h2>Users</h2>
      {error && <p className="error">{error}</p>}
      {users === null ? (
        <p className="muted">{online ? 'Loading…' : 'Shown when online.'}</p>
      ) : (
        <table className="table" data-testid="users">
          <thead>
            <tr>
              <th>Name</th>
              <th>User name</th>
              <th>Role</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id}>
                <td>{u.name}</td>
                <td>{u.username}</td>
                <td>{u.role}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted small">
        Add users and change roles on the server: <code>npx qm user add {store.tenant} NAME --role editor</code>
      </p>
    </div>
  )
}
