// Passkeys (WebAuthn): the browser's part of registering and using one. The server makes and
// checks every challenge; this only carries them to navigator.credentials and back. Forms
// marked data-passkey="create" or "get" are shown only where the browser supports passkeys.

const decode = (text) => {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4)
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer
}

const encode = (buffer) => {
  if (!buffer) return null
  let text = ''
  for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte)
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

const withIds = (list) => (list || []).map((item) => ({ ...item, id: decode(item.id) }))

const creationOptions = (options) => ({
  ...options,
  challenge: decode(options.challenge),
  user: { ...options.user, id: decode(options.user.id) },
  excludeCredentials: withIds(options.excludeCredentials)
})

const requestOptions = (options) => ({
  ...options,
  challenge: decode(options.challenge),
  allowCredentials: withIds(options.allowCredentials)
})

const created = (credential) => ({
  id: credential.id,
  rawId: encode(credential.rawId),
  type: credential.type,
  authenticatorAttachment: credential.authenticatorAttachment || undefined,
  clientExtensionResults: credential.getClientExtensionResults(),
  response: {
    clientDataJSON: encode(credential.response.clientDataJSON),
    attestationObject: encode(credential.response.attestationObject),
    transports: credential.response.getTransports ? credential.response.getTransports() : []
  }
})

const asserted = (credential) => ({
  id: credential.id,
  rawId: encode(credential.rawId),
  type: credential.type,
  authenticatorAttachment: credential.authenticatorAttachment || undefined,
  clientExtensionResults: credential.getClientExtensionResults(),
  response: {
    clientDataJSON: encode(credential.response.clientDataJSON),
    authenticatorData: encode(credential.response.authenticatorData),
    signature: encode(credential.response.signature),
    userHandle: encode(credential.response.userHandle)
  }
})

const showProblem = (form, message) => {
  const box = form.querySelector('[data-passkey-problem]')
  if (box) {
    box.textContent = message
    box.hidden = false
    box.focus()
  }
}

async function usePasskey (form) {
  const body = new URLSearchParams({ csrf_token: form.elements.csrf_token.value })
  const answer = await fetch(form.dataset.optionsUrl, {
    method: 'POST',
    body,
    credentials: 'same-origin',
    headers: { Accept: 'application/json' }
  })
  const options = await answer.json()
  if (!answer.ok) throw new Error(options.message || 'The passkey could not be started.')
  let credential
  if (form.dataset.passkey === 'create') {
    credential = created(await navigator.credentials.create({ publicKey: creationOptions(options) }))
  } else {
    credential = asserted(await navigator.credentials.get({ publicKey: requestOptions(options) }))
  }
  form.elements.credential.value = JSON.stringify(credential)
  form.submit()
}

if (window.PublicKeyCredential) {
  for (const form of document.querySelectorAll('form[data-passkey]')) {
    form.hidden = false
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      usePasskey(form).catch((error) => {
        const cancelled = error && error.name === 'NotAllowedError'
        showProblem(form, cancelled ? 'The passkey was cancelled or timed out. Try again.' : error.message)
      })
    })
  }
  for (const note of document.querySelectorAll('[data-passkey-unsupported]')) note.hidden = true
}
