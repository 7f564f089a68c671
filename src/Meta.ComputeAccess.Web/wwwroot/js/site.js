// Small progressive enhancements; every page works without them.
document.addEventListener('DOMContentLoaded', () => {
  // Buttons with data-confirm ask before submitting their form.
  document.querySelectorAll('[data-confirm]').forEach(el => {
    el.addEventListener('click', e => {
      if (!window.confirm(el.getAttribute('data-confirm'))) { e.preventDefault(); }
    });
  });
  // <time data-local> elements show a UTC instant in the device's time zone, as the server writes times
  // ("2027-03-01 14:05 Europe/Berlin"): the zone is always named. (dateStyle cannot be combined with timeZoneName,
  // so the parts are asked for one by one.)
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone) {
    const format = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    });
    document.querySelectorAll('time[data-local]').forEach(el => {
      const when = new Date(el.getAttribute('datetime'));
      if (isNaN(when)) { return; }
      const part = Object.fromEntries(format.formatToParts(when).map(p => [p.type, p.value]));
      const text = `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute} ${zone}`;
      if (text !== el.textContent.trim()) {
        el.title = el.textContent.trim();
        el.textContent = text;
      }
    });
  }
});

// A time-zone select left at UTC is preset to the browser's zone (the person can still change it).
document.addEventListener('DOMContentLoaded', () => {
  document.querySelectorAll('select[data-detect-tz="true"]').forEach(select => {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && [...select.options].some(o => o.value === zone)) { select.value = zone; }
  });
});
