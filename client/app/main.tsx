/** The warehouse app's entry: one React root, the server it was loaded from. */
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.js'
import './styles.css'

const root = document.getElementById('root')
if (!root) throw new Error('index.html has no #root')
createRoot(root).render(
  <StrictMode>
    <App serverUrl={location.origin} />
  </StrictMode>,
)
