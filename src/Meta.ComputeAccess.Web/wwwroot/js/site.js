// Small progressive enhancements; every page works without them.
document.addEventListener('DOMContentLoaded', () => {
  // Buttons with data-confirm ask before submitting their form.
  document.querySelectorAll('[data-confirm]').forEach(el => {
    el.addEventListener('click', e => {
      if (!window.confirm(el.getAttribute('data-confirm'))) { e.preventDefault(); }
    });
  });
  // <time data-local> elements show a UTC instant in the reader's own time zone, naming the zone.
  document.querySelectorAll('time[data-local]').forEach(el => {
    const when = new Date(el.getAttribute('datetime'));
    if (!isNaN(when)) {
      el.title = el.textContent.trim();
      el.textContent = when.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZoneName: 'short' });
    }
  });
});

// A time-zone select left at UTC is preset to the browser's zone (the person can still change it).
document.addEventListener('DOMContentLoaded', () => {
  document.querySelectorAll('select[data-detect-tz="true"]').forEach(select => {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && [...select.options].some(o => o.value === zone)) { select.value = zone; }
  });
});
