// Progressive enhancement for the login page: offers "Use a passkey" when the browser
// supports WebAuthn. Without JavaScript (or without WebAuthn) the section stays hidden
// and the national ID number + password form is the whole page.
//
// Contract with the server (docs/identity-pages.md): POST data-options-url with the
// form's csrf_token (application/x-www-form-urlencoded) returns the
// PublicKeyCredentialRequestOptionsJSON (as produced by py_webauthn's options_to_json);
// the signed assertion is posted to the passkey form's action as JSON in "credential".
(function () {
  "use strict";
  var box = document.getElementById("passkey");
  if (!box || !window.PublicKeyCredential || !navigator.credentials) {
    return;
  }
  var form = document.getElementById("passkey-form");
  var failed = document.getElementById("passkey-error");

  function fromB64url(value) {
    var b64 = value.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function requestOptions(json) {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    }
    var options = Object.assign({}, json, { challenge: fromB64url(json.challenge) });
    if (json.allowCredentials) {
      options.allowCredentials = json.allowCredentials.map(function (c) {
        return Object.assign({}, c, { id: fromB64url(c.id) });
      });
    }
    return options;
  }

  function credentialJSON(cred) {
    if (typeof cred.toJSON === "function") {
      return cred.toJSON();
    }
    var r = cred.response;
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || null,
      clientExtensionResults: cred.getClientExtensionResults(),
      response: {
        clientDataJSON: toB64url(r.clientDataJSON),
        authenticatorData: toB64url(r.authenticatorData),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : null
      }
    };
  }

  function fail() {
    failed.hidden = false;
    failed.focus();
  }

  form.addEventListener("submit", function (event) {
    if (form.elements.credential.value) {
      return;
    }
    event.preventDefault();
    failed.hidden = true;
    var body = new URLSearchParams();
    body.set("csrf_token", form.elements.csrf_token.value);
    fetch(box.getAttribute("data-options-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      body: body
    })
      .then(function (response) {
        if (!response.ok) { throw new Error("options " + response.status); }
        return response.json();
      })
      .then(function (json) {
        return navigator.credentials.get({ publicKey: requestOptions(json) });
      })
      .then(function (cred) {
        if (!cred) { throw new Error("no credential"); }
        form.elements.credential.value = JSON.stringify(credentialJSON(cred));
        form.submit();
      })
      .catch(fail);
  });

  box.hidden = false;
})();
