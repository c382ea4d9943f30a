/** When the connection needs a person: sign in again (same user, data kept), or why it stopped. */
import { useStatus, useStore } from '../hooks.js'
import { SignInForm } from '../screens/SignIn.js'

export function ProblemBanner() {
  const store = useStore()
  const { problem } = useStatus()
  if (!problem) return null
  return (
    <div className="problem" role="alert">
      <p>{problem.message}</p>
      {problem.code === 'sign-in-again' && (
        <SignInForm
          serverUrl={location.origin}
          fixed={{ tenant: store.tenant, username: store.user.username }}
          submitLabel="Sign in again"
          onSession={(session) => store.replaceSession(session)}
        />
      )}
    </div>
  )
}
