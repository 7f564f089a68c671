using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Meta.ComputeAccess.Web.Pages;

public class IndexModel : PageModel
{
    public void OnGet()
    {

    }
}
