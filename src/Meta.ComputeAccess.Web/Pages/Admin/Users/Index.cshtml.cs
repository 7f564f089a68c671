using Meta.ComputeAccess.Data;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Admin.Users;

public sealed class IndexModel(PortalDbContext db) : PageModel
{
    public const int PageSize = 50;

    public sealed record Row(Guid Id, string FullName, string Email, string Institution, bool EmailConfirmed, DateTimeOffset? LockoutEnd, IReadOnlyList<string> Roles);

    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public string? Query { get; private set; }

    public int PageNumber { get; private set; }

    public int Total { get; private set; }

    public async Task OnGetAsync(string? q, int p = 1, CancellationToken cancellationToken = default)
    {
        Query = q?.Trim();
        PageNumber = Math.Max(1, p);
        var users = db.Users.AsNoTracking();
        if (!string.IsNullOrEmpty(Query))
        {
            var pattern = "%" + Query.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";
            users = users.Where(u => EF.Functions.ILike(u.Email!, pattern) || EF.Functions.ILike(u.FullName, pattern) || EF.Functions.ILike(u.Institution, pattern));
        }
        Total = await users.CountAsync(cancellationToken);
        Rows = await users
            .OrderBy(u => u.FullName).ThenBy(u => u.Id)
            .Skip((PageNumber - 1) * PageSize).Take(PageSize)
            .Select(u => new Row(
                u.Id, u.FullName, u.Email!, u.Institution, u.EmailConfirmed, u.LockoutEnd,
                db.UserRoles.Where(ur => ur.UserId == u.Id).Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name!).OrderBy(n => n).ToList()))
            .ToListAsync(cancellationToken);
    }
}
