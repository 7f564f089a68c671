using Microsoft.AspNetCore.Mvc.ViewFeatures;

namespace Meta.ComputeAccess.Web.Ui;

/// <summary>
/// The one-line messages shown after a redirect (kept in the TempData cookie). Capped in length: a message that
/// echoes what someone typed must not grow the cookie past what browsers keep, or it pushes out the sign-in cookie.
/// </summary>
public static class Flash
{
    private const int MaxLength = 400;

    public static void Status(this ITempDataDictionary tempData, string message) => tempData["Status"] = Cap(message);

    public static void Error(this ITempDataDictionary tempData, string message) => tempData["Error"] = Cap(message);

    private static string Cap(string message) => message.Length <= MaxLength ? message : message[..MaxLength] + "…";
}
