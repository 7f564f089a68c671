using System.ComponentModel.DataAnnotations;
using Hangfire;
using Meta.ComputeAccess.Compliance;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Web.Pages.Compliance;

/// <summary>Screening lists: every imported version, and the import of a new one from CSV.</summary>
/// <remarks>
/// The request may be as large as the largest import the settings allow (<see cref="ComplianceOptions.MaxImportBytes"/>
/// caps it at 1 GB); the configured limit is checked by <see cref="ScreeningLists.ImportAsync"/>, which says so.
/// </remarks>
[RequestSizeLimit(MaxRequestBytes)]
[RequestFormLimits(MultipartBodyLengthLimit = MaxRequestBytes)]
public sealed class ListsModel(PortalDbContext db, ScreeningLists lists, IBackgroundJobClient jobs, IOptions<ComplianceOptions> options) : PageModel
{
    public const long MaxRequestBytes = 1_073_741_824L + 1_048_576L;

    public sealed record VersionRow(Guid Id, string ListName, string ListKey, int Number, ScreeningListFormat Format, string FileName, string Sha256, int Entries, int Names, DateTimeOffset ImportedAt, string? ImportedBy, bool Current);

    public IReadOnlyList<VersionRow> Versions { get; private set; } = [];

    public long MaxImportBytes => options.Value.MaxImportBytes;

    [BindProperty]
    public InputModel Input { get; set; } = new();

    public sealed class InputModel
    {
        [Display(Name = "List name")]
        [StringLength(ScreeningListVersion.MaxListNameLength)]
        public string ListName { get; set; } = "";

        public ScreeningListFormat Format { get; set; } = ScreeningListFormat.Auto;

        [Display(Name = "Entry id")]
        [StringLength(ScreeningColumnMap.MaxHeaderLength)]
        public string? EntryIdColumn { get; set; }

        [Display(Name = "Name")]
        [StringLength(ScreeningColumnMap.MaxHeaderLength)]
        public string? NameColumn { get; set; }

        [Display(Name = "Alternate names")]
        [StringLength(ScreeningColumnMap.MaxHeaderLength)]
        public string? AltNamesColumn { get; set; }

        [Display(Name = "Country")]
        [StringLength(ScreeningColumnMap.MaxHeaderLength)]
        public string? CountryColumn { get; set; }

        [Display(Name = "Source list")]
        [StringLength(ScreeningColumnMap.MaxHeaderLength)]
        public string? SourceListColumn { get; set; }

        [Display(Name = "Entry type")]
        [StringLength(ScreeningColumnMap.MaxHeaderLength)]
        public string? KindColumn { get; set; }

        public ScreeningColumnMap Columns() => new(EntryIdColumn, NameColumn, AltNamesColumn, CountryColumn, SourceListColumn, KindColumn);
    }

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostImportAsync(IFormFile? file, CancellationToken cancellationToken)
    {
        if (file is null || file.Length == 0)
        {
            ModelState.AddModelError("file", "Choose the list's CSV file.");
        }
        if (!ModelState.IsValid)
        {
            await LoadAsync(cancellationToken);
            return Page();
        }
        return await this.RunAsync(async () =>
        {
            await using var content = file!.OpenReadStream();
            var imported = await lists.ImportAsync(new ScreeningListUpload(Input.ListName, Input.Format, file.FileName, file.Length, content, Input.Columns()), User.GetUserId(), cancellationToken);
            TempData.Status($"Imported version {imported.Number} of {imported.ListName}: {imported.Entries:N0} entries ({imported.Format}). Open proposals and allocations are being screened against it.");
            return RedirectToPage();
        }, async () =>
        {
            await LoadAsync(cancellationToken);
            return Page();
        }, field: "file", fieldPrefix: nameof(Input) + ".");
    }

    public IActionResult OnPostRescreen()
    {
        ComplianceRescreenJob.Enqueue(jobs, null);
        TempData.Status("Open proposals and allocations are being screened again; new hits appear in the queue.");
        return RedirectToPage();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var rows = await (from v in db.ScreeningListVersions.AsNoTracking()
                          join u in db.Users on v.ImportedByUserId equals u.Id into importer
                          from u in importer.DefaultIfEmpty()
                          orderby v.ImportedAt descending, v.Number descending
                          select new { v.Id, v.ListName, v.ListKey, v.Number, v.Format, v.FileName, v.Sha256, v.EntryCount, v.NameCount, v.ImportedAt, ImportedBy = u.FullName })
            .Take(500).ToListAsync(cancellationToken);
        var newest = rows.GroupBy(r => r.ListKey).ToDictionary(g => g.Key, g => g.Max(r => r.Number), StringComparer.Ordinal);
        Versions = [.. rows.Select(r => new VersionRow(r.Id, r.ListName, r.ListKey, r.Number, r.Format, r.FileName, r.Sha256, r.EntryCount, r.NameCount, r.ImportedAt, r.ImportedBy, newest[r.ListKey] == r.Number))];
    }
}
