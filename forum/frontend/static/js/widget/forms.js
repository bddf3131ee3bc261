// The error summary (GOV.UK pattern): a titled list of links to the fields, focused when shown.
import { html, useEffect, useRef } from '../lib/ui.js';
import { t } from '../lib/i18n.js';

export function ErrorSummary({ errors }) {
  const ref = useRef(null);
  useEffect(() => { if (errors.length && ref.current) ref.current.focus(); }, [errors]);
  if (!errors.length) return null;
  const jump = (field) => (e) => {
    e.preventDefault();
    const el = document.getElementById(field);
    if (el) el.focus();
  };
  return html`<div class="error-summary" role="alert" tabindex="-1" ref=${ref}>
    <h2>${t('common.error_title')}</h2>
    <ul>${errors.map((err) => html`<li><a href=${`#${err.field}`} onClick=${jump(err.field)}>${err.text}</a></li>`)}</ul>
  </div>`;
}
