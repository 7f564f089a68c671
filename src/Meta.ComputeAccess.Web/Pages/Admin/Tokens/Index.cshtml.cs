using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Tokens;

/// <summary>Cluster API tokens: create (the secret is shown on this response only), revoke, last use.</summary>
public sealed class IndexModel(PortalDbContext db, ClusterTokens tokens) : PageModel
{
    public sealed record Row(Guid Id, string Cluster, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

    public sealed class InputModel
    {
        [Required(ErrorMessage = "Choose a cluster.")]
        public string? ClusterSlug { get; set; }

        [Required(ErrorMessage = "Name the token, e.g. where it is used.")]
        [StringLength(100)]
        public string Name { get; set; } = "";
    }

    [BindProperty]
    public InputModel Input { get; set; } = new();

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public IReadOnlyList<(string Slug, string Name)> Clusters { get; private set; } = [];

    /// <summary>Set only on the response to a create: never stored, never redirected through TempData.</summary>
    public string? NewSecret { get; private set; }

    public async Task OnGetAsync() => await LoadAsync();

    public async Task<IActionResult> OnPostCreateAsync()
    {
        // The page may hold a secret: no caching anywhere.
        Response.Headers.CacheControl = "no-store";
        if (!ModelState.IsValid)
        {
            return await ShowAgainAsync();
        }
        return await this.RunAsync(async () =>
        {
            var (_, secret) = await tokens.CreateAsync(Input.ClusterSlug!, Input.Name, User.GetUserId());
            NewSecret = secret;
            Input = new InputModel();
            ModelState.Clear();
            return await ShowAgainAsync();
        }, ShowAgainAsync, field: "Input.ClusterSlug");
    }

    public Task<IActionResult> OnPostRevokeAsync(Guid id) =>
        this.RunAsync(async () =>
        {
            await tokens.RevokeAsync(id, User.GetUserId());
            TempData.Status("Token revoked; the cluster gets 401 with it from now on.");
            return RedirectToPage();
        }, ShowAgainAsync);

    private async Task<IActionResult> ShowAgainAsync()
    {
        await LoadAsync();
        return Page();
    }

    private async Task LoadAsync()
    {
        Clusters = (await db.Clusters.AsNoTracking().OrderBy(c => c.Name).Select(c => new { c.Slug, c.Name }).ToListAsync()).Select(c => (c.Slug, c.Name)).ToList();
        Rows = await (from t in db.ClusterTokens.AsNoTracking()
                      join c in db.Clusters on t.ClusterId equals c.Id
                      orderby c.Name, t.CreatedAt descending
                      select new Row(t.Id, c.Name, t.Name, t.Prefix, t.CreatedAt, t.LastUsedAt, t.RevokedAt)).ToListAsync();
    }
}
