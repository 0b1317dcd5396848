// review/confirm.js — one step that cannot be taken back (a decision, a countersignature, a
// return) asked once more in a modal <dialog>: what is about to happen in a sentence, the
// words it goes with, an optional note (a return says why), Cancel and the action named on its
// button. Keyboard: the dialog takes the focus (Cancel first: Enter never decides by accident),
// Escape cancels, and the focus goes back to the button that opened it. Owns no state of the
// page: the caller's run() does the request and says what went wrong, if anything.
export function confirmAction(dialog, { title, text, quote = '', confirm, note = false, run }) {
  const opener = document.activeElement;
  const $ = (selector) => dialog.querySelector(selector);
  const ok = $('button.primary'), cancel = $('button[id$="-cancel"]');
  const noteBox = $('[id$="-note-box"]'), noteField = $('textarea'), error = $('.error');
  $('h3').textContent = title;
  $('p[id$="-text"]').textContent = text;
  $('.quote').textContent = quote;
  $('.quote').hidden = !quote;
  ok.textContent = confirm;
  ok.disabled = false;
  if (noteBox) noteBox.hidden = !note;
  if (noteField) noteField.value = '';
  if (error) error.textContent = '';
  const done = () => {
    if (dialog.open) dialog.close();
    if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
  };
  cancel.onclick = done;
  dialog.oncancel = (e) => { e.preventDefault(); done(); };   // Escape
  ok.onclick = async () => {
    ok.disabled = true;
    const failed = await run(note && noteField ? noteField.value : '');
    if (failed && error) { error.textContent = failed; ok.disabled = false; return; }
    done();
  };
  dialog.showModal();
  cancel.focus();
}
