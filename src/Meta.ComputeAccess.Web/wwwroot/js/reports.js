// Draws each report chart from the table beside it (the table is the data; the chart is a view of it), so the
// figures reach a screen reader, a CSV and a chart identically. Needs Chart.js (lib/chart.js).
document.addEventListener('DOMContentLoaded', () => {
  if (typeof Chart === 'undefined') { return; }
  const palette = ['#0a58ca', '#6f42c1', '#198754', '#b35c00', '#d63384', '#495057'];
  document.querySelectorAll('canvas[data-chart-table]').forEach(canvas => {
    const table = document.getElementById(canvas.getAttribute('data-chart-table'));
    if (!table) { return; }
    const series = (canvas.getAttribute('data-chart-series') || '1').split(',').map(Number);
    const headers = [...table.tHead.rows[0].cells].map(c => c.textContent.trim());
    const rows = [...table.tBodies[0].rows];
    const labels = rows.map(r => r.cells[0].textContent.trim());
    const datasets = series.map((col, i) => ({
      label: headers[col],
      data: rows.map(r => {
        const v = r.cells[col] && r.cells[col].getAttribute('data-value');
        return v === null || v === '' ? null : Number(v);
      }),
      backgroundColor: palette[i % palette.length],
      borderColor: palette[i % palette.length],
    }));
    new Chart(canvas, {
      type: canvas.getAttribute('data-chart-type') || 'bar',
      data: { labels, datasets },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { legend: { display: datasets.length > 1 } },
        scales: { y: { beginAtZero: true } },
      },
    });
    canvas.setAttribute('data-chart-drawn', 'true');
  });
});
