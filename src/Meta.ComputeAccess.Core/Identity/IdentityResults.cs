using Microsoft.AspNetCore.Identity;

namespace Meta.ComputeAccess.Identity;

public static class IdentityResults
{
    /// <summary>Turns a failed Identity operation into a refusal that says why, in Identity's own words.</summary>
    public static void ThrowIfFailed(this IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new DomainException(string.Join(" ", result.Errors.Select(e => e.Description)));
        }
    }
}
