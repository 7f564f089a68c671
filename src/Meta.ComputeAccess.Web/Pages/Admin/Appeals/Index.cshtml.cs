using Meta.ComputeAccess.Review;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Admin.Appeals;

/// <summary>The appeals queue: undecided appeals first, oldest first, then the decided ones.</summary>
public sealed class IndexModel(DecisionAppeals appeals) : PageModel
{
    public IReadOnlyList<AppealView> Appeals { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) => Appeals = await appeals.QueueAsync(cancellationToken);
}
