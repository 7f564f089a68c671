using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Web.Accounts;
using Meta.ComputeAccess.Web.Ui;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages.Proposals;

/// <summary>
/// The team's right to reply: in the call's response phase, the reviews' comments meant for the applicants (no names,
/// nothing confidential) and the team's one response. Anyone not on the team gets 404.
/// </summary>
public sealed class ResponseModel(ReviewResponses responses, TimeProvider clock) : PageModel
{
    public ResponsePage View { get; private set; } = null!;

    public DateTimeOffset Now { get; private set; }

    [BindProperty]
    public string Text { get; set; } = "";

    public Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken) => ShowAsync(id, cancellationToken);

    // Refusals are shown in the summary: once the thing is done, its form is gone.
    public Task<IActionResult> OnPostAsync(Guid id, CancellationToken cancellationToken) =>
        this.RunAsync(
            async () =>
            {
                if (!await responses.SubmitAsync(id, User.GetUserId(), Text ?? "", cancellationToken))
                {
                    return NotFound();
                }
                TempData.Status("Response submitted: the reviewers were told and may revise their reviews.");
                return RedirectToPage(new { id });
            },
            () => ShowAsync(id, cancellationToken));

    private async Task<IActionResult> ShowAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await responses.FindAsync(id, User.GetUserId(), cancellationToken) is not { } view)
        {
            return NotFound();
        }
        View = view;
        Now = clock.GetUtcNow();
        return Page();
    }
}
