// Progressive enhancement for passkeys (WebAuthn). Without JavaScript (or without
// WebAuthn) the login page is the national ID number + password form, and the account
// page says that adding a passkey needs a supporting browser.
//
// Contract with the server (docs/identity-pages.md):
// * login page (#passkey): POST data-options-url with the form's csrf_token
//   (application/x-www-form-urlencoded) returns PublicKeyCredentialRequestOptionsJSON (as
//   produced by py_webauthn's options_to_json); the signed assertion is posted to the
//   passkey form's action as JSON in "credential";
// * account page (#passkey-register): the same POST returns
//   PublicKeyCredentialCreationOptionsJSON; the new credential (RegistrationResponseJSON)
//   is posted to the form's action in "credential", with the optional "label".
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

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

  // A PublicKeyCredential as JSON (WebAuthn L3 toJSON, or the same shape by hand for
  // older browsers); "response" is the ceremony's own part.
  function publicKeyJSON(cred, response) {
    if (typeof cred.toJSON === "function") {
      return cred.toJSON();
    }
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || null,
      clientExtensionResults: cred.getClientExtensionResults(),
      response: response(cred.response)
    };
  }

  function credentialJSON(cred) {
    return publicKeyJSON(cred, function (r) {
      return {
        clientDataJSON: toB64url(r.clientDataJSON),
        authenticatorData: toB64url(r.authenticatorData),
        signature: toB64url(r.signature),
        userHandle: r.userHandle ? toB64url(r.userHandle) : null
      };
    });
  }

  function creationOptions(json) {
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    }
    var options = Object.assign({}, json, {
      challenge: fromB64url(json.challenge),
      user: Object.assign({}, json.user, { id: fromB64url(json.user.id) })
    });
    if (json.excludeCredentials) {
      options.excludeCredentials = json.excludeCredentials.map(function (c) {
        return Object.assign({}, c, { id: fromB64url(c.id) });
      });
    }
    return options;
  }

  function registrationJSON(cred) {
    return publicKeyJSON(cred, function (r) {
      return {
        clientDataJSON: toB64url(r.clientDataJSON),
        attestationObject: toB64url(r.attestationObject),
        transports: typeof r.getTransports === "function" ? r.getTransports() : []
      };
    });
  }

  // One ceremony: fetch the options (CSRF token in the body), run it in the browser,
  // post the result with the form. Any failure shows and focuses the error message.
  function ceremony(box, form, failed, run) {
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
        .then(run)
        .then(function (json) {
          form.elements.credential.value = JSON.stringify(json);
          form.submit();
        })
        .catch(function () {
          failed.hidden = false;
          failed.focus();
        });
    });
  }

  var login = document.getElementById("passkey");
  if (login) {
    ceremony(login, document.getElementById("passkey-form"),
      document.getElementById("passkey-error"), function (json) {
        return navigator.credentials.get({ publicKey: requestOptions(json) })
          .then(function (cred) {
            if (!cred) { throw new Error("no credential"); }
            return credentialJSON(cred);
          });
      });
    login.hidden = false;
  }

  var register = document.getElementById("passkey-register");
  if (register) {
    var form = document.getElementById("passkey-register-form");
    ceremony(register, form, document.getElementById("passkey-register-error"),
      function (json) {
        return navigator.credentials.create({ publicKey: creationOptions(json) })
          .then(function (cred) {
            if (!cred) { throw new Error("no credential"); }
            return registrationJSON(cred);
          });
      });
    form.querySelector("button[type=submit]").disabled = false;
    document.getElementById("passkey-register-unsupported").hidden = true;
  }
})();
