// Marks the page as having JavaScript before it is drawn, as the GOV.UK template does with
// an inline script (Alliance's Content-Security-Policy allows no inline script).
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
