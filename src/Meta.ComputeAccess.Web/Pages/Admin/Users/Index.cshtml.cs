using Meta.ComputeAccess.Data;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Users;

public sealed class IndexModel(PortalDbContext db, TimeProvider clock) : PageModel
{
    public const int PageSize = 50;

    public sealed record Row(Guid Id, string FullName, string Email, string Institution, bool EmailConfirmed, DateTimeOffset? LockoutEnd, IReadOnlyList<string> Roles);

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    [FromQuery(Name = "q")]
    public string? Query { get; set; }

    /// <summary>The page shown: whatever number was asked for, one between the first and the last.</summary>
    [FromQuery(Name = "p")]
    public int PageNumber { get; set; } = 1;

    public int Total { get; private set; }

    public int Pages => Math.Max(1, (Total + PageSize - 1) / PageSize);

    public DateTimeOffset Now { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Query = Query?.Trim();
        Now = clock.GetUtcNow();
        var users = db.Users.AsNoTracking();
        if (!string.IsNullOrEmpty(Query))
        {
            var pattern = "%" + Query.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
            users = users.Where(u => EF.Functions.ILike(u.Email!, pattern) || EF.Functions.ILike(u.FullName, pattern) || EF.Functions.ILike(u.Institution, pattern));
        }
        Total = await users.CountAsync(cancellationToken);
        PageNumber = Math.Clamp(PageNumber, 1, Pages);
        Rows = await users
            .OrderBy(u => u.FullName).ThenBy(u => u.Id)
            .Skip((PageNumber - 1) * PageSize).Take(PageSize)
            .Select(u => new Row(
                u.Id, u.FullName, u.Email!, u.Institution, u.EmailConfirmed, u.LockoutEnd,
                db.UserRoles.Where(ur => ur.UserId == u.Id).Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name!).OrderBy(n => n).ToList()))
            .ToListAsync(cancellationToken);
    }
}
